package api

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tiledesk-go/tiledesk"
)

func TestProjectKeysAndJWTDecode(t *testing.T) {
	e := newEnv(t)
	owner, agent := e.signup("Owner"), e.signup("Alex")
	pid := e.createProject(owner, "Shop")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	decode := func(token string) *resp {
		return e.do("POST", "/"+pid+"/jwt/decode", nil, header("Authorization", "JWT "+token))
	}

	decode("x.y.z").wantBody(t, 404, `{"msg":"Project hasnt  a jwtSecret","success":false}`)
	e.do("POST", "/"+pid+"/keys/generate", nil, agent.jwt()).want(t, 403) // it invalidates the customers' tokens: admins only
	keys := e.do("POST", "/"+pid+"/keys/generate", nil, owner.jwt()).want(t, 200).json(t)
	secret := keys["jwtSecret"].(string)
	if len(secret) != 36 {
		t.Fatalf("jwtSecret %q", secret)
	}
	pubBlock, _ := pem.Decode([]byte(keys["publicKey"].(string)))
	privBlock, _ := pem.Decode([]byte(keys["privateKey"].(string)))
	if pubBlock == nil || privBlock == nil || pubBlock.Type != "PUBLIC KEY" || privBlock.Type != "RSA PRIVATE KEY" {
		t.Fatalf("keys are not PEM: %v", keys)
	}
	priv, err := x509.ParsePKCS1PrivateKey(privBlock.Bytes)
	pub, err2 := x509.ParsePKIXPublicKey(pubBlock.Bytes)
	if err != nil || err2 != nil || !priv.PublicKey.Equal(pub.(*rsa.PublicKey)) || priv.N.BitLen() != 2048 {
		t.Fatalf("the key pair does not match: %v %v", err, err2)
	}

	// The secret and the private key are in that answer only: not in the project, not in its events.
	for _, path := range []string{"/projects/" + pid, "/projects", "/" + pid + "/widgets"} {
		body := string(e.do("GET", path, nil, owner.jwt()).want(t, 200).body)
		if strings.Contains(body, secret) || strings.Contains(body, "PRIVATE KEY") {
			t.Fatalf("GET %s shows the project's keys: %s", path, body)
		}
	}
	evs, err := e.store.FindEvents(context.Background(), pid, tiledesk.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Payload), secret) || strings.Contains(string(ev.Payload), "PRIVATE KEY") {
			t.Fatalf("event %s carries the project's keys", ev.Name)
		}
	}

	sign := func(key string, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := e.clock.Now().Unix()
	r := decode(sign(secret, jwt.MapClaims{"iat": now, "exp": now + 300, "_id": "customer-42"})).want(t, 200)
	golden(t, "jwt-decode", r)
	for _, c := range []struct {
		claims jwt.MapClaims
		key    string
		msg    string
	}{
		{jwt.MapClaims{"exp": now + 300}, secret, "Token iat is required"},
		{jwt.MapClaims{"iat": now}, secret, "Token exp is required"},
		{jwt.MapClaims{"iat": now, "exp": now + 601}, secret, "up to a maximum of 10 minutes"},
		{jwt.MapClaims{"iat": now - 700, "exp": now - 100}, secret, "TokenExpiredError"},
		{jwt.MapClaims{"iat": now, "exp": now + 300}, "another secret", `"msg":"Authentication failed"`},
	} {
		if r := decode(sign(c.key, c.claims)).want(t, 401); !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%v: %s", c.claims, r.body)
		}
	}
	e.do("POST", "/"+pid+"/jwt/decode", nil).want(t, 403)
	// A new secret replaces the old one.
	old := sign(secret, jwt.MapClaims{"iat": now, "exp": now + 300})
	e.do("POST", "/"+pid+"/keys/generate", nil, owner.jwt()).want(t, 200)
	decode(old).want(t, 401)
	e.clock.Add(time.Second)
}

func TestProjectAttributes(t *testing.T) {
	e := newEnv(t)
	owner, agent := e.signup("Owner"), e.signup("Alex")
	pid := e.createProject(owner, "Shop")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	path := "/projects/" + pid + "/attributes"
	e.do("PATCH", path, map[string]any{"plan": "pro"}, agent.jwt()).want(t, 403)
	e.do("PATCH", path, map[string]any{"plan": "pro", "limits": map[string]any{"seats": 5, "bots": 1}}, owner.jwt()).want(t, 200)
	r := e.do("PATCH", path, map[string]any{"limits": map[string]any{"seats": 9}, "region": "eu"}, owner.jwt()).want(t, 200)
	golden(t, "project-attributes", r)
	attrs := r.json(t)["attributes"].(map[string]any)
	if attrs["plan"] != "pro" || attrs["region"] != "eu" || len(attrs["limits"].(map[string]any)) != 1 {
		t.Fatalf("attributes merge one level deep: %v", attrs)
	}
	e.do("PATCH", path, `["not", "an", "object"]`, owner.jwt()).want(t, 422)
	e.do("PATCH", path, map[string]any{"big": strings.Repeat("x", tiledesk.MaxProjectJSONBytes)}, owner.jwt()).want(t, 413)
}
