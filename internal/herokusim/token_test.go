package herokusim_test

import (
	"net/http"
	"testing"
)

// TestSetTokenRotatesTheKey: after SetToken only the new key is accepted,
// as after a rotation on Heroku that revoked the old one.
func TestSetTokenRotatesTheKey(t *testing.T) {
	const rotated = "rotated-token"
	s := newServer(t)
	s.SetToken(rotated)
	tests := []struct {
		name       string
		token      string
		wantStatus int
	}{
		{name: "old key refused", token: token, wantStatus: http.StatusUnauthorized},
		{name: "new key accepted", token: rotated, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, http.MethodGet, "/apps/"+app+"/formation/web", "", map[string]string{"Authorization": "Bearer " + tt.token})
			if a.status != tt.wantStatus {
				t.Errorf("status = %d (%s), want %d", a.status, a.body, tt.wantStatus)
			}
		})
	}
}
