#!/usr/bin/env python3
"""Expand a SAM template into plain CloudFormation JSON, offline.

usage: python3 -c "$(cat expand.py)" TEMPLATE [PARAMETERS_JSON]

PARAMETERS_JSON is an object of parameter name -> value. The expansion uses
samtranslator's bundled managed-policy map and a region-only boto session, so
it makes no AWS call. Conditions, !If and parameter references are left for
CloudFormation (moto, in the tests) to evaluate, as after a real transform.
"""
import json
import sys

import boto3
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"


def stand_in_packaged_code(template: dict) -> None:
    """Point local CodeUri paths at S3, as `sam package` would before deploying."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.setdefault("Properties", {})
        uri = props.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            props["CodeUri"] = "s3://packaged-code/autoscalebot.zip"


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = json.loads(sys.argv[2]) if len(sys.argv) == 3 else {}
    stand_in_packaged_code(template)

    translator = Translator(
        managed_policy_map=get_bundled_managed_policy_map("aws"),
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=REGION),
    )
    expanded = translator.translate(sam_template=template, parameter_values=params)
    json.dump(expanded, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
