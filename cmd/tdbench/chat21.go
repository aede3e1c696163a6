package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// The chat21 scenario (tdbench chat21): visitors and agents connected over MQTT as the official
// widget and agent app connect; each visitor's conversation is routed to an agent; at a fixed rate
// visitors send messages, and the delay from a visitor's publish to the message reaching its
// agent's connection is measured, with the visitor's own echo.

type c21Options struct {
	clients, agents, rate int
	duration              time.Duration
	jsonOut               string
}

type c21Result struct {
	Clients          int     `json:"mqtt_clients"`
	Agents           int     `json:"agents"`
	Rate             int     `json:"messages_per_second"`
	Sent             int64   `json:"messages_sent"`
	Delivered        int64   `json:"delivered_to_agents"`
	Echoed           int64   `json:"echoed_to_visitors"`
	LatencyP50Millis float64 `json:"visitor_to_agent_p50_ms"`
	LatencyP99Millis float64 `json:"visitor_to_agent_p99_ms"`
	LatencyMaxMillis float64 `json:"visitor_to_agent_max_ms"`
	EchoP50Millis    float64 `json:"echo_p50_ms"`
	EchoP99Millis    float64 `json:"echo_p99_ms"`
}

func parseC21Options(args []string, out io.Writer) (*c21Options, error) {
	fs := flag.NewFlagSet("tdbench chat21", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &c21Options{}
	fs.IntVar(&o.clients, "clients", 1000, "MQTT connections: the agents' and the visitors'")
	fs.IntVar(&o.agents, "agents", 10, "agents among them, available, each with one connection")
	fs.IntVar(&o.rate, "rate", 200, "messages visitors send per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long messages are sent")
	fs.StringVar(&o.jsonOut, "json", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.agents < 1 || o.clients <= o.agents || o.rate < 1 || o.duration <= 0 {
		return nil, errors.New("--agents, --rate and --duration must be positive, --clients more than --agents")
	}
	return o, nil
}

// runChat21 is tdbench chat21.
func runChat21(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseC21Options(args, out)
	if err != nil {
		return err
	}
	raiseFileLimit(2*o.clients+1000, out)
	srv, stop, err := connectionServer(out, "c21", o.clients+10)
	if err != nil {
		return err
	}
	defer stop()
	res, err := measureChat21(ctx, o, srv.url, out)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, srv.logs)
	}
	fmt.Fprintf(out, "\nchat21: %d MQTT clients (%d agents), %d messages/s for %s\n", res.Clients, res.Agents, res.Rate, o.duration)
	fmt.Fprintf(out, "  delivered to agents: %d of %d; visitor to agent p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		res.Delivered, res.Sent, res.LatencyP50Millis, res.LatencyP99Millis, res.LatencyMaxMillis)
	fmt.Fprintf(out, "  echoed to visitors: %d; p50 %.1f ms, p99 %.1f ms\n", res.Echoed, res.EchoP50Millis, res.EchoP99Millis)
	return writeJSONFile(o.jsonOut, res)
}

// c21Bench is one run's state.
type c21Bench struct {
	ws      *wsBench // the API calls
	base    string
	mu      sync.Mutex
	lat     []time.Duration
	echo    []time.Duration
	got     atomic.Int64
	echoed  atomic.Int64
	started time.Time
}

// c21Client is one MQTT connection.
type c21Client struct {
	uid string
	c   paho.Client
}

// callAs is an API call with a credential of its own.
func (b *c21Bench) callAs(ctx context.Context, token, method, path, body string, into any) error {
	ws := &wsBench{api: b.ws.api, client: b.ws.client, token: token}
	return ws.call(ctx, method, path, body, into)
}

func (b *c21Bench) chatToken(ctx context.Context, apiToken string) (uid, token string, err error) {
	var who struct{ Userid, Token string }
	err = b.callAs(ctx, apiToken, "POST", "/chat21/native/auth/createCustomToken", "", &who)
	return who.Userid, who.Token, err
}

// connect opens an MQTT connection whose inbox's messages go to onMessage, with when each
// message's attributes say it was sent.
func (b *c21Bench) connect(uid, token string, onMessage func(text string, sent time.Time)) (*c21Client, error) {
	opts := paho.NewClientOptions().AddBroker("ws" + strings.TrimPrefix(b.base, "http") + "/mqws/ws").SetUsername("JWT").
		SetPassword(token).SetClientID(uid).SetAutoReconnect(false).SetKeepAlive(30 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connect %s: %v", uid, tok.Error())
	}
	tok := c.Subscribe("apps/tilechat/users/"+uid+"/#", 0, func(_ paho.Client, m paho.Message) {
		if !strings.HasSuffix(m.Topic(), "/clientadded") {
			return
		}
		var msg struct {
			Text       string
			Attributes struct{ Sent int64 }
		}
		if json.Unmarshal(m.Payload(), &msg) == nil && msg.Attributes.Sent > 0 {
			onMessage(msg.Text, b.started.Add(time.Duration(msg.Attributes.Sent)))
		}
	})
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscribe %s: %v", uid, tok.Error())
	}
	return &c21Client{uid: uid, c: c}, nil
}

func measureChat21(ctx context.Context, o *c21Options, base string, out io.Writer) (*c21Result, error) {
	b := &c21Bench{base: base, started: time.Now(), ws: &wsBench{api: base + "/v1", client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}}
	if err := b.ws.setUp(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "tdbench: %d agents connect\n", o.agents)
	agents, err := b.agents(ctx, o.agents)
	if err != nil {
		return nil, err
	}
	defer disconnect(agents)
	n := o.clients - o.agents
	fmt.Fprintf(out, "tdbench: %d visitors sign in, connect and start a conversation\n", n)
	visitors, groups, err := b.visitors(ctx, n)
	defer disconnect(visitors)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "tdbench: visitors send %d messages/s for %s\n", o.rate, o.duration)
	res := &c21Result{Clients: o.clients, Agents: o.agents, Rate: o.rate}
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	end := time.After(o.duration)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-end:
			return b.results(res, i), nil
		case <-tick.C:
		}
		v := i % len(visitors)
		msg, _ := json.Marshal(map[string]any{"text": "m" + strconv.Itoa(i), "type": "text", "channel_type": "group",
			"attributes": map[string]any{"sent": time.Since(b.started).Nanoseconds(), "tempUID": strconv.Itoa(i)}})
		visitors[v].c.Publish("apps/tilechat/outgoing/users/"+visitors[v].uid+"/messages/"+groups[v]+"/outgoing", 0, false, msg)
	}
}

// results waits for the deliveries of what was sent, and sums them up.
func (b *c21Bench) results(res *c21Result, sent int) *c21Result {
	res.Sent = int64(sent)
	for deadline := time.Now().Add(10 * time.Second); (b.got.Load() < res.Sent || b.echoed.Load() < res.Sent) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	res.Delivered, res.Echoed = b.got.Load(), b.echoed.Load()
	b.mu.Lock()
	defer b.mu.Unlock()
	res.LatencyP50Millis, res.LatencyP99Millis, res.LatencyMaxMillis = percentiles(slices.Clone(b.lat))
	res.EchoP50Millis, res.EchoP99Millis, _ = percentiles(slices.Clone(b.echo))
	return res
}

func disconnect(cs []*c21Client) {
	for _, c := range cs {
		if c != nil {
			c.c.Disconnect(0)
		}
	}
}

// agents are the project's owner and agents-1 agents invited, each connected once.
func (b *c21Bench) agents(ctx context.Context, n int) ([]*c21Client, error) {
	tokens := []string{b.ws.token}
	for i := 1; i < n; i++ {
		email := fmt.Sprintf("agent%d@example.com", i)
		account := `{"email":"` + email + `","password":"Passw0rd!","firstname":"A","lastname":"` + strconv.Itoa(i) + `"}`
		var signin struct{ Token string }
		if err := b.callAs(ctx, "", "POST", "/auth/signup", account, nil); err != nil {
			return nil, err
		}
		if err := b.callAs(ctx, "", "POST", "/auth/signin", account, &signin); err != nil {
			return nil, err
		}
		if err := b.callAs(ctx, b.ws.token, "POST", "/"+b.ws.pid+"/project_users/invite", `{"email":"`+email+`","role":"agent"}`, nil); err != nil {
			return nil, err
		}
		tokens = append(tokens, signin.Token)
	}
	out := make([]*c21Client, len(tokens))
	for i, tok := range tokens {
		uid, chat, err := b.chatToken(ctx, tok)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.connect(uid, chat, b.received(&b.got, &b.lat)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// received records a timed message's delay.
func (b *c21Bench) received(count *atomic.Int64, into *[]time.Duration) func(string, time.Time) {
	return func(_ string, sent time.Time) {
		d := time.Since(sent)
		count.Add(1)
		b.mu.Lock()
		*into = append(*into, d)
		b.mu.Unlock()
	}
}

// visitors sign in anonymously, connect, and start a conversation each, routed to an agent.
func (b *c21Bench) visitors(ctx context.Context, n int) ([]*c21Client, []string, error) {
	clients, groups := make([]*c21Client, n), make([]string, n)
	err := parallel(n, 16, func(i int) error {
		var guest struct{ Token string }
		if err := b.callAs(ctx, "", "POST", "/auth/signinAnonymously", `{"id_project":"`+b.ws.pid+`"}`, &guest); err != nil {
			return err
		}
		uid, chat, err := b.chatToken(ctx, guest.Token)
		if err != nil {
			return err
		}
		if clients[i], err = b.connect(uid, chat, b.received(&b.echoed, &b.echo)); err != nil {
			return err
		}
		groups[i] = fmt.Sprintf("support-group-%s-v%d", b.ws.pid, i)
		clients[i].c.Publish("apps/tilechat/outgoing/users/"+uid+"/messages/"+groups[i]+"/outgoing", 0, false,
			`{"text":"hello","type":"text","channel_type":"group"}`)
		return nil
	})
	if err != nil {
		return clients, groups, err
	}
	// Every conversation is created (and routed) before the measured messages.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var list struct{ Count int }
		if err := b.callAs(ctx, b.ws.token, "GET", "/"+b.ws.pid+"/requests?limit=1", "", &list); err != nil {
			return clients, groups, err
		}
		if list.Count >= n {
			return clients, groups, nil
		}
		if time.Now().After(deadline) {
			return clients, groups, fmt.Errorf("%d of %d conversations were created", list.Count, n)
		}
	}
}
