package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestSpecValidate(t *testing.T) {
	base := func() Spec {
		return Spec{URL: "http://127.0.0.1:8080/users/{id}", Params: []Param{{Name: "id", Min: 1, Max: 9}}, Duration: Duration(time.Second)}
	}
	cases := []struct {
		name   string
		change func(*Spec)
		path   string // "" when valid
		msg    string
	}{
		{"valid", func(*Spec) {}, "", ""},
		{"open model with ramp", func(s *Spec) {
			s.Rate, s.Ramp = 100, []Stage{{Rate: 200, Duration: Duration(time.Second)}}
		}, "", ""},
		{"no url", func(s *Spec) { s.URL, s.Params = "", nil }, "url", "is required"},
		{"ftp url", func(s *Spec) { s.URL, s.Params = "ftp://127.0.0.1/", nil }, "url", "not http or https"},
		{"credentials in url", func(s *Spec) { s.URL, s.Params = "http://u:p@127.0.0.1/", nil }, "url", "credentials"},
		{"placeholder without param", func(s *Spec) { s.Params = nil }, "url", "{id} has no entry"},
		{"param not in url", func(s *Spec) { s.Params = append(s.Params, Param{Name: "x"}) }, "params[1].name", "has no {x}"},
		{"param twice", func(s *Spec) { s.Params = append(s.Params, Param{Name: "id"}) }, "params[1].name", "given twice"},
		{"min above max", func(s *Spec) { s.Params[0].Min = 10 }, "params[0]", "min 10 is above max 9"},
		{"value with line break", func(s *Spec) { s.Params[0].Values = []string{"a\nb"} }, "params[0].values[0]", "line break"},
		{"bad method", func(s *Spec) { s.Method = "GE T" }, "method", "not an HTTP method"},
		{"bad header name", func(s *Spec) { s.Headers = []Header{{Name: "X Y", Value: "1"}} }, "headers[0].name", "not a valid header name"},
		{"header injection", func(s *Spec) { s.Headers = []Header{{Name: "X", Value: "1\r\nEvil: 1"}} }, "headers[0].value", "line break"},
		{"host header", func(s *Spec) { s.Headers = []Header{{Name: "host", Value: "x"}} }, "headers[0].name", "set by the load generator"},
		{"body too large", func(s *Spec) { s.Body = strings.Repeat("x", MaxBody+1) }, "body", "at most"},
		{"no connections", func(s *Spec) { s.Connections = -1 }, "connections", "not from 1"},
		{"too many connections", func(s *Spec) { s.Connections = MaxConnections + 1 }, "connections", "not from 1"},
		{"negative rate", func(s *Spec) { s.Rate = -1 }, "rate", "closed model"},
		{"ramp without rate", func(s *Spec) { s.Ramp = []Stage{{Rate: 1, Duration: Duration(time.Second)}} }, "ramp", "needs the open model"},
		{"ramp longer than run", func(s *Spec) {
			s.Rate, s.Ramp = 1, []Stage{{Rate: 1, Duration: Duration(2 * time.Second)}}
		}, "ramp", "longer than the duration"},
		{"ramp stage rate", func(s *Spec) { s.Rate, s.Ramp = 1, []Stage{{Duration: Duration(time.Second)}} }, "ramp[0].rate", "not from 1"},
		{"think time in open model", func(s *Spec) { s.Rate, s.ThinkTime = 1, Duration(time.Millisecond) }, "thinkTime", "closed model only"},
		{"no duration", func(s *Spec) { s.Duration = 0 }, "duration", "not above 0"},
		{"duration too long", func(s *Spec) { s.Duration = Duration(MaxDuration + time.Second) }, "duration", "at most 1h0m0s"},
		{"warmup too long", func(s *Spec) { s.Warmup = Duration(MaxWarmup + time.Second) }, "warmup", "not from 0"},
		{"timeout too long", func(s *Spec) { s.Timeout = Duration(MaxTimeout + time.Second) }, "timeout", "at most"},
		{"request cap too high", func(s *Spec) { s.MaxRequests = MaxRequestsLimit + 1 }, "maxRequests", "not from 1"},
		{"websocket kind", func(s *Spec) { s.Kind = "websocket" }, "kind", "not a scenario kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.change(&s)
			s = s.WithDefaults()
			err := s.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			errs, ok := err.(SpecErrors)
			if !ok {
				t.Fatalf("Validate = %v, want SpecErrors", err)
			}
			for _, fe := range errs {
				if fe.Path == tc.path && strings.Contains(fe.Message, tc.msg) {
					return
				}
			}
			t.Errorf("Validate = %v, want %s: …%s…", errs, tc.path, tc.msg)
		})
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"1m30s"`)); err != nil || d.Std() != 90*time.Second {
		t.Errorf("UnmarshalJSON(1m30s) = %v, %v", d.Std(), err)
	}
	for _, bad := range []string{`10`, `"ten"`, `null`} {
		if err := d.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) = nil, want an error", bad)
		}
	}
	if b, _ := Duration(2 * time.Second).MarshalJSON(); string(b) != `"2s"` {
		t.Errorf("MarshalJSON = %s, want \"2s\"", b)
	}
}

func TestSchedule(t *testing.T) {
	s := newSchedule(100, 2*time.Second, []Stage{{Rate: 300, Duration: Duration(2 * time.Second)}})
	cases := []struct {
		at   time.Duration
		want float64
	}{
		{0, 0},
		{time.Second, 100},
		{2 * time.Second, 200},       // end of warm-up at 100/s
		{3 * time.Second, 200 + 150}, // halfway up the ramp: mean rate 150
		{4 * time.Second, 200 + 400}, // ramp done: mean rate 200 over 2s
		{5 * time.Second, 200 + 400 + 300},
	}
	for _, tc := range cases {
		if got := s.count(tc.at); abs(got-tc.want) > 1e-6 {
			t.Errorf("count(%v) = %g, want %g", tc.at, got, tc.want)
		}
	}
	for k := 0.0; k < 1000; k += 7 {
		if got := s.count(s.at(k)); abs(got-k) > 1e-3 {
			t.Fatalf("count(at(%g)) = %g", k, got)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
