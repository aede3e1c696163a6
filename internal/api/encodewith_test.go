package api

import (
	"encoding/json"
	"testing"
)

func TestEncodeJSONWithAddsTheRenderedMemberLast(t *testing.T) {
	raw := []byte(`{"request_id":"support-group-p-1","lead":{"fullname":"Ann <ann@x.io>"}}`)
	m := &messageJSON{ID: "m1", Text: "a < b & c", Sender: "u1", IDProject: "p"}
	got, err := encodeJSONWith(m, "request", raw)
	if err != nil {
		t.Fatal(err)
	}
	// What encoding/json gives for the same message with the conversation as a member of its own.
	type withRequest struct {
		*messageJSON
		Request json.RawMessage `json:"request"`
	}
	want, err := encodeJSON(withRequest{m, raw})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	if got, err := encodeJSONWith(struct{}{}, "k", []byte(`[1]`)); err != nil || string(got) != `{"k":[1]}` {
		t.Fatalf("empty object: %s, %v", got, err)
	}
	if got, err := encodeJSONWith(m, "request", nil); err != nil || json.Valid(got) == false || string(got) == string(want) {
		t.Fatalf("without raw: %s, %v (want the message alone)", got, err)
	}
	if _, err := encodeJSONWith([]int{1}, "k", []byte(`1`)); err == nil {
		t.Fatal("an array took a member")
	}
}
