package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/problem"
)

// adminClient calls the admin API of the server running a project, so
// that the CLI's changes go through it: the server runs them, shows them
// in the studio and announces them on its event stream.
type adminClient struct {
	url, token string
	http       *http.Client
}

func newAdminClient(url, token string) *adminClient {
	return &adminClient{url: url, token: token, http: &http.Client{Timeout: 10 * time.Minute}}
}

// MaxAdminResponse bounds what the CLI reads of one admin API answer.
const maxAdminResponse = 64 << 20

// call sends body (if any) as JSON and decodes the answer into out; a
// problem+json answer becomes an error with its detail and each of its
// errors.
func (c *adminClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the running server: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return fmt.Errorf("reading the running server's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			// an answer that is not a problem, such as a failed verification's report
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("the running server answered %s: %w", resp.Status, err)
			}
			return fmt.Errorf("the running server answered %s", resp.Status)
		}
		var p problem.Details
		if json.Unmarshal(data, &p) != nil || p.Status == 0 {
			return fmt.Errorf("the running server answered %s: %s", resp.Status, strings.TrimSpace(string(data)))
		}
		var b strings.Builder
		b.WriteString(p.Detail)
		for _, e := range p.Errors {
			fmt.Fprintf(&b, "\n  %s: %s", e.Path, e.Message)
		}
		return fmt.Errorf("%s", b.String())
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}
