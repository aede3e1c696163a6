package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// readsAcross checks that a change made through the first process is read through every other at
// once, with no wait: a lead created through the first, read by id and in the first page of leads;
// a reply posted into a conversation, read in its messages. Each other process reads the page and
// the messages before the change too, so that whatever it keeps of them is kept when the change
// is made.
func readsAcross(ctx context.Context, fs []*fixture, conversation string) []check {
	writer, readers := fs[0], fs[1:]
	lead := check{Name: "a lead created through process 1 is read through " + otherProcesses(len(fs)) + " at once"}
	lead.Passed, lead.Detail = leadReadAcross(ctx, writer, readers)
	checks := []check{lead}
	if conversation != "" {
		msg := check{Name: "a reply posted through process 1 is read through " + otherProcesses(len(fs)) + " at once"}
		msg.Passed, msg.Detail = replyReadAcross(ctx, writer, readers, conversation)
		checks = append(checks, msg)
	}
	return checks
}

// otherProcesses names the processes after the first of n.
func otherProcesses(n int) string {
	if n == 2 {
		return "process 2"
	}
	return fmt.Sprintf("processes 2-%d", n)
}

func leadReadAcross(ctx context.Context, writer *fixture, readers []*fixture) (bool, string) {
	for _, r := range readers {
		if _, err := r.fetch(ctx, "/leads"); err != nil {
			return false, fmt.Sprintf("first page through %s before the change: %v", r.api, err)
		}
	}
	body, _ := json.Marshal(map[string]any{"fullname": "Read Across", "email": "read-across@example.com"})
	id, err := postForID(ctx, writer, writer.api+"/"+writer.pid+"/leads", body)
	if err != nil {
		return false, "create the lead: " + err.Error()
	}
	for k, r := range readers {
		got, err := r.fetch(ctx, "/leads/"+id)
		if err != nil {
			return false, fmt.Sprintf("process %d: GET /leads/%s: %v", k+2, id, err)
		}
		if !bytes.Contains(got, []byte(`"`+id+`"`)) {
			return false, fmt.Sprintf("process %d: GET /leads/%s answered another lead: %.200s", k+2, id, got)
		}
		page, err := r.fetch(ctx, "/leads")
		if err != nil {
			return false, fmt.Sprintf("process %d: GET /leads: %v", k+2, err)
		}
		if ids, err := idsIn(page, "leads"); err != nil || !slices.Contains(ids, id) {
			return false, fmt.Sprintf("process %d: the first page of leads lacks lead %s (%v)", k+2, id, err)
		}
	}
	return true, fmt.Sprintf("lead %s read by id and in the first page through %d other processes", id, len(readers))
}

func replyReadAcross(ctx context.Context, writer *fixture, readers []*fixture, rid string) (bool, string) {
	path := "/requests/" + rid + "/messages"
	for _, r := range readers {
		if _, err := r.fetch(ctx, path); err != nil {
			return false, fmt.Sprintf("messages through %s before the change: %v", r.api, err)
		}
	}
	id, err := postForID(ctx, writer, writer.api+"/"+writer.pid+path, []byte(`{"text":"Read across processes"}`))
	if err != nil {
		return false, "post the reply: " + err.Error()
	}
	for k, r := range readers {
		got, err := r.fetch(ctx, path)
		if err != nil {
			return false, fmt.Sprintf("process %d: GET %s: %v", k+2, path, err)
		}
		if ids, err := idsIn(got, ""); err != nil || !slices.Contains(ids, id) {
			return false, fmt.Sprintf("process %d: the conversation's messages lack message %s (%v)", k+2, id, err)
		}
	}
	return true, fmt.Sprintf("message %s read in its conversation through %d other processes", id, len(readers))
}

// postForID posts body as the owner and returns the _id of what was created.
func postForID(ctx context.Context, f *fixture, url string, body []byte) (string, error) {
	req, err := f.post(url, body, f.jwt)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("%d %s", resp.StatusCode, raw)
	}
	var created struct {
		ID string `json:"_id"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.ID == "" {
		return "", fmt.Errorf("no _id in %.200s", raw)
	}
	return created.ID, nil
}

// idsIn returns the _id of every item of a list answer: a JSON array, or the array under field.
func idsIn(body []byte, field string) ([]string, error) {
	type item struct {
		ID string `json:"_id"`
	}
	var items []item
	if field == "" {
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, err
		}
	} else {
		var page map[string]json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(page[field], &items); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids, nil
}
