package awsjson

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4, as the SDK's v4.Signer.SignHTTP signs (the tests
// compare the two byte for byte), for the requests these clients make: no
// query string, every header but the ignored ones signed.
const (
	signingAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	scopeDateFormat  = "20060102"
	headerDate       = "X-Amz-Date"
	headerToken      = "X-Amz-Security-Token"
)

// ignoredHeaders stay out of the signature, as the SDK's ignore list:
// proxies and the transport may add or change them.
var ignoredHeaders = map[string]bool{
	"Authorization": true, "User-Agent": true, "X-Amzn-Trace-Id": true, "Expect": true, "Transfer-Encoding": true,
}

// defaultPorts are left out of the signed host, as the SDK does (and
// req.Host is set to match, so the Host header sent is the one signed).
var defaultPorts = map[string]string{"http": ":80", "https": ":443"}

// sign adds X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization to req, whose body hashes to payloadHash (hex SHA-256),
// for service in region at time t.
func sign(req *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time) {
	t = t.UTC()
	amzDate := t.Format(amzDateFormat)
	req.Header.Set(headerDate, amzDate)
	if creds.SessionToken != "" {
		req.Header.Set(headerToken, creds.SessionToken)
	}

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if p := defaultPorts[strings.ToLower(req.URL.Scheme)]; p != "" && strings.HasSuffix(host, p) {
		host = strings.TrimSuffix(host, p)
		req.Host = host
	}
	names := []string{"host"}
	values := map[string][]string{}
	if req.ContentLength > 0 {
		names = append(names, "content-length")
		values["content-length"] = []string{strconv.FormatInt(req.ContentLength, 10)}
	}
	for k, v := range req.Header {
		lk := strings.ToLower(k)
		if ignoredHeaders[k] || lk == "content-length" {
			continue
		}
		if _, seen := values[lk]; !seen {
			names = append(names, lk)
		}
		values[lk] = append(values[lk], v...)
	}
	sort.Strings(names)
	var canonical strings.Builder
	for _, name := range names {
		canonical.WriteString(name)
		canonical.WriteByte(':')
		if name == "host" {
			canonical.WriteString(stripExcessSpaces(host))
		} else {
			for i, v := range values[name] {
				if i > 0 {
					canonical.WriteByte(',')
				}
				canonical.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
			}
		}
		canonical.WriteByte('\n')
	}
	signedHeaders := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	request := strings.Join([]string{req.Method, path, "", canonical.String(), signedHeaders, payloadHash}, "\n")

	scope := t.Format(scopeDateFormat) + "/" + region + "/" + service + "/aws4_request"
	requestHash := sha256.Sum256([]byte(request))
	toSign := signingAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(requestHash[:])
	key := hmacSHA256([]byte("AWS4"+creds.SecretAccessKey), t.Format(scopeDateFormat))
	for _, part := range []string{region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", signingAlgorithm+" Credential="+creds.AccessKeyID+"/"+scope+
		", SignedHeaders="+signedHeaders+", Signature="+hex.EncodeToString(hmacSHA256(key, toSign)))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// stripExcessSpaces trims spaces at either end and folds runs of them into
// one, as the canonical form of a header value asks.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
