// Command hellofn is the smallest aws-lambda-go function, built like the
// bootstrap: the yardstick its cold start is measured against (make bench).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
