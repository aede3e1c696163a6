// Package mailtest runs a real SMTP server on the loopback interface for tests: it receives what the
// server sends and hands each message to the test.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose what the server offers.
type Options struct {
	Host        string            // listen address's host; default 127.0.0.1
	Users       map[string]string // user -> password: offer AUTH PLAIN and require it
	StartTLS    bool              // offer STARTTLS
	ImplicitTLS bool              // TLS from the first byte (smtps)
	// InsecureAuth offers AUTH on a connection without TLS (the client must still refuse to send
	// a password there).
	InsecureAuth bool
}

// Message is one received message.
type Message struct {
	From   string
	To     []string
	User   string // who authenticated, "" for nobody
	TLS    bool   // the message came over TLS
	Header mail.Header
	Body   string // decoded from quoted-printable when so encoded
	Raw    []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr string // host:port
	srv  *smtp.Server
	msgs chan Message
	cert *x509.Certificate

	mu    sync.Mutex
	auths []string // every user that authenticated, in order
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), msgs: make(chan Message, 100)}
	s.srv = smtp.NewServer(&backend{s: s, opts: opts})
	s.srv.Domain = "mailtest.local"
	s.srv.AllowInsecureAuth = opts.InsecureAuth
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = discard{}
	if opts.StartTLS || opts.ImplicitTLS {
		cert, leaf := selfSigned(t)
		s.cert = leaf
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		if opts.StartTLS {
			s.srv.TLSConfig = cfg
		}
		if opts.ImplicitTLS {
			ln = tls.NewListener(ln, cfg)
		}
	}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// ClientTLS is a TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	if s.cert != nil {
		pool.AddCert(s.cert)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Next waits for the next message.
func (s *Server) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(timeout):
		t.Fatalf("mailtest: no message within %s", timeout)
		return Message{}
	}
}

// None asserts that no message arrives within d.
func (s *Server) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("mailtest: unexpected message to %v: %s", m.To, m.Header.Get("Subject"))
	case <-time.After(d):
	}
}

// Auths lists the users that authenticated so far.
func (s *Server) Auths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

type backend struct {
	s    *Server
	opts Options
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, tlsOn := c.TLSConnectionState()
	return &session{b: b, conn: c, tls: tlsOn}, nil
}

type session struct {
	b    *backend
	conn *smtp.Conn
	tls  bool
	user string
	msg  Message
}

func (s *session) AuthMechanisms() []string {
	if len(s.b.opts.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if want, ok := s.b.opts.Users[user]; !ok || want != password {
			return errors.New("mailtest: bad credentials")
		}
		s.user = user
		s.b.s.mu.Lock()
		s.b.s.auths = append(s.b.s.auths, user)
		s.b.s.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.b.opts.Users) > 0 && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.msg = Message{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := s.msg
	m.Raw, m.User = raw, s.user
	_, m.TLS = s.conn.TLSConnectionState()
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	m.Header = parsed.Header
	var body io.Reader = parsed.Body
	if strings.EqualFold(parsed.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.Body = string(b)
	s.b.s.msgs <- m
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// selfSigned makes a certificate for the loopback addresses and localhost.
func selfSigned(t testing.TB) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2), net.IPv6loopback}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}
