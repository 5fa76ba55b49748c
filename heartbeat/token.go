package heartbeat

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// TokenEnv is the environment variable a Heartbeat reads its Token from
// when the field is empty. autoscalebot sends the same token from its
// AUTOSCALE_HEARTBEAT_TOKEN (or, in Lambda, the SSM parameter named by
// AUTOSCALE_HEARTBEAT_TOKEN_PARAMETER).
const TokenEnv = "AUTOSCALEBOT_HEARTBEAT_TOKEN"

// authorized tells whether r carries the heartbeat's token as
// "Authorization: Bearer <token>". The two are compared by their SHA-256
// sums in constant time, so neither the token's bytes nor its length show
// in how long a wrong guess takes.
func (h *Heartbeat) authorized(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	if !h.hasToken {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	return subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) == 1
}
