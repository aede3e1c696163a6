package api

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

// A project's keys let its own back end sign tokens for its customers: the jwtSecret signs them
// (HS256, audience https://tiledesk.com/projects/<id>), and POST /auth/signinWithCustomToken
// exchanges them. POST /:pid/jwt/decode lets that back end check a short-lived token.

// rsaKeyBits sizes the key pair handed out with the secret (the original's is 256 bits, which
// anyone can factor).
const rsaKeyBits = 2048

type projectKeysJSON struct {
	PublicKey  string `json:"publicKey"`
	PrivateKey string `json:"privateKey"`
	JWTSecret  string `json:"jwtSecret"`
}

// handleKeysGenerate gives the project a new secret, and a key pair whose private half is only in
// this answer. Tokens signed with the previous secret stop working.
func (s *Server) handleKeysGenerate(w http.ResponseWriter, r *http.Request, c *call) error {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	out := projectKeysJSON{
		PublicKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		JWTSecret:  uuid.NewString(),
	}
	if _, err := s.store.UpdateProject(r.Context(), c.project.ID,
		tiledesk.ProjectUpdate{JWTSecret: &out.JWTSecret, PublicKey: &out.PublicKey}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxProjectTokenLife is how long a token given to POST /:pid/jwt/decode may live (exp - iat).
const maxProjectTokenLife = 600

// handleJWTDecode verifies the token of the Authorization header ("JWT <token>", whatever the
// first word) with the project's secret and answers its claims.
func (s *Server) handleJWTDecode(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.project.JWTSecret == "" {
		return errMsg(http.StatusNotFound, "Project hasnt  a jwtSecret") // sic, as the original
	}
	parts := strings.Split(r.Header.Get("Authorization"), " ")
	if len(parts) != 2 || parts[1] == "" {
		return errMsg(http.StatusForbidden, "Unauthorized.")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(parts[1], claims, func(*jwt.Token) (any, error) { return []byte(c.project.JWTSecret), nil },
		jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}), jwt.WithTimeFunc(s.now))
	if err != nil {
		name := "JsonWebTokenError"
		if errors.Is(err, jwt.ErrTokenExpired) {
			name = "TokenExpiredError"
		}
		return &apiError{status: http.StatusUnauthorized, body: map[string]any{"success": false, "msg": "Authentication failed",
			"err": map[string]string{"name": name, "message": err.Error()}}}
	}
	iat, iatOK := claims["iat"].(float64)
	exp, expOK := claims["exp"].(float64)
	switch {
	case !iatOK:
		return errMsg(http.StatusUnauthorized, "Authentication failed. Token iat is required")
	case !expOK:
		return errMsg(http.StatusUnauthorized, "Authentication failed. Token exp is required")
	case exp-iat > maxProjectTokenLife:
		return errMsg(http.StatusUnauthorized, "Authentication failed. The value of exp is permitted to be up to a maximum of 10 minutes from the iat value")
	}
	writeJSON(w, http.StatusOK, map[string]any{"decoded": claims})
	return nil
}

// handleProjectAttributes merges the body's keys into the project's attributes, one level deep.
func (s *Server) handleProjectAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	if !b.within("attributes", b.m, tiledesk.MaxProjectJSONBytes) {
		return b.err()
	}
	if len(b.m) == 0 {
		writeJSON(w, http.StatusOK, toProject(c.project, s.now()))
		return nil
	}
	p, err := s.store.UpdateProject(r.Context(), c.project.ID, tiledesk.ProjectUpdate{Attributes: b.m})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p, s.now()))
	return nil
}
