package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// upload is a file a client sends: a part of a multipart/form-data body, with the body's other
// fields; a JSON (or form) body's field named as the part, with its other fields; or a whole body of
// another type (text/csv), with the query's parameters as its fields.
type upload struct {
	data      []byte
	fields    url.Values
	fromQuery map[string]bool // the fields read from the query
	wholeBody bool            // the body is the file: every field is the query's
}

func (u *upload) field(name string) string { return u.fields.Get(name) }

// location is where a field is (or would be) read from, as a 422 names it.
func (u *upload) location(name string) string {
	if u.wholeBody || u.fromQuery[name] {
		return "query"
	}
	return "body"
}

// readUpload reads the file of an upload route. The body is bounded as every body is (--max-body)
// and held in memory, never in temporary files.
func (s *Server) readUpload(r *http.Request, part string) (*upload, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if kind, _ := mediaType(r); kind == "json" || kind == "form" {
		// Scripts send the file's text as the field named after the part, beside the other fields.
		b, err := decodeObject(r)
		if err != nil {
			return nil, err
		}
		text := b.requiredStr(part)
		fields := url.Values{}
		for k, v := range b.m {
			if str, ok := v.(string); ok && k != part {
				fields.Set(k, str)
			}
		}
		return &upload{data: []byte(text), fields: fields}, b.err()
	}
	if mt != "multipart/form-data" {
		data, err := readBody(r)
		if err != nil {
			return nil, err
		}
		return &upload{data: data, fields: r.URL.Query(), wholeBody: true}, nil
	}
	if err := r.ParseMultipartForm(s.maxBody); err != nil {
		if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
			return nil, bodyTooLarge(tooBig.Limit)
		}
		return nil, errMsg(http.StatusBadRequest, "Malformed multipart body.")
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile(part)
	if err != nil {
		return nil, invalidField(part, "body", "is required: the file, as the multipart part "+part)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, errMsg(http.StatusBadRequest, "Could not read the uploaded file.")
	}
	up := &upload{data: data, fields: url.Values{}, fromQuery: map[string]bool{}}
	for k, v := range r.MultipartForm.Value {
		up.fields[k] = v
	}
	for k, v := range r.URL.Query() {
		if _, ok := up.fields[k]; !ok {
			up.fields[k], up.fromQuery[k] = v, true
		}
	}
	return up, nil
}
