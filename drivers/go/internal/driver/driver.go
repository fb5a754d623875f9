// Package driver is the client-independent half of a ktrial client driver (docs/drivers.md): it
// reads the workload from stdin, writes the JSON lines on stdout, paces and numbers the records,
// and checks property values. Each command (cmd/sarama, cmd/franz-go) maps the properties to its
// client and runs the send loop through a Client.
package driver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Input is the JSON object a driver reads on stdin.
type Input struct {
	BootstrapServers string            `json:"bootstrap_servers"`
	Topic            string            `json:"topic"`
	Records          int64             `json:"records"`
	Keys             int64             `json:"keys"`
	ValueSize        *int64            `json:"value_size"`
	Mode             string            `json:"mode"`
	Rate             *float64          `json:"rate"`
	FlushEvery       *int64            `json:"flush_every"`
	Properties       map[string]string `json:"properties"`
	Native           map[string]string `json:"native"`
}

// Bootstrap is the bootstrap list as host:port entries.
func (in *Input) Bootstrap() []string {
	var out []string
	for _, s := range strings.Split(in.BootstrapServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Fatal is a configuration or input problem: printed as a fatal line, exit status 2.
type Fatal struct {
	Message  string
	Property string // the key in properties or native; "" for none
	In       string // "properties", "native" or "input"
}

func (f *Fatal) Error() string { return f.Message }

// PropertyFatal names a property of `properties`.
func PropertyFatal(property, format string, args ...any) *Fatal {
	return &Fatal{Message: fmt.Sprintf(format, args...), Property: property, In: "properties"}
}

// NativeFatal names a setting of `native`.
func NativeFatal(setting, format string, args ...any) *Fatal {
	return &Fatal{Message: fmt.Sprintf(format, args...), Property: setting, In: "native"}
}

// --- output ---------------------------------------------------------------------------------

var (
	outMu sync.Mutex
	start time.Time
)

func emit(v map[string]any) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

// Ms is the time since the started line, in milliseconds (monotonic).
func Ms() float64 {
	return float64(time.Since(start).Microseconds()) / 1000
}

// PrintFatal writes the fatal line and exits with status 2 (configuration/input) or 1.
func PrintFatal(err error) {
	if f, ok := err.(*Fatal); ok {
		var property any
		if f.Property != "" {
			property = f.Property
		}
		emit(map[string]any{"fatal": f.Message, "property": property, "in": f.In})
		os.Exit(2)
	}
	emit(map[string]any{"fatal": err.Error(), "property": nil, "in": "client"})
	os.Exit(1)
}

// Reporter counts and prints delivery reports; each id is printed at most once.
type Reporter struct {
	mu       sync.Mutex
	reported map[int64]bool
	Acked    int64
	Failed   int64
	AcksZero bool // acks=0: the broker never answers, offsets are printed as -1
}

// NewReporter makes a reporter for n records.
func NewReporter() *Reporter {
	return &Reporter{reported: map[int64]bool{}}
}

func (r *Reporter) first(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reported[id] {
		fmt.Fprintf(os.Stderr, "driver: second report for record %d dropped\n", id)
		return false
	}
	r.reported[id] = true
	return true
}

// Ack reports record id stored at partition/offset.
func (r *Reporter) Ack(id int64, partition int32, offset int64) {
	if !r.first(id) {
		return
	}
	if r.AcksZero {
		offset = -1
	}
	r.mu.Lock()
	r.Acked++
	r.mu.Unlock()
	emit(map[string]any{"id": id, "partition": partition, "offset": offset, "ms": Ms()})
}

// Fail reports record id failed with the client's error text.
func (r *Reporter) Fail(id int64, err error) {
	if !r.first(id) {
		return
	}
	r.mu.Lock()
	r.Failed++
	r.mu.Unlock()
	emit(map[string]any{"id": id, "error": err.Error(), "ms": Ms()})
}

// Counts is acked and failed so far.
func (r *Reporter) Counts() (int64, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Acked, r.Failed
}

// --- input ----------------------------------------------------------------------------------

// ReadInput parses stdin; every problem is a *Fatal.
func ReadInput() (*Input, error) {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, &Fatal{Message: "reading stdin: " + err.Error(), In: "input"}
	}
	var in Input
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, &Fatal{Message: "input: " + err.Error(), In: "input"}
	}
	if in.BootstrapServers == "" || in.Topic == "" {
		return nil, &Fatal{Message: "input: bootstrap_servers and topic are required", In: "input"}
	}
	if in.Records < 0 || in.Keys < 0 {
		return nil, &Fatal{Message: "input: records and keys must be >= 0", In: "input"}
	}
	if in.ValueSize == nil {
		v := int64(100)
		in.ValueSize = &v
	}
	if in.Mode == "" {
		in.Mode = "async"
	}
	switch in.Mode {
	case "sync", "async", "fire-and-forget":
	default:
		return nil, &Fatal{Message: fmt.Sprintf("input: mode %q is not sync, async or fire-and-forget", in.Mode), In: "input"}
	}
	if in.Rate != nil && *in.Rate <= 0 {
		return nil, &Fatal{Message: "input: rate must be > 0", In: "input"}
	}
	if in.FlushEvery != nil && *in.FlushEvery <= 0 {
		return nil, &Fatal{Message: "input: flush_every must be > 0", In: "input"}
	}
	if in.Properties == nil {
		in.Properties = map[string]string{}
	}
	if in.Native == nil {
		in.Native = map[string]string{}
	}
	if _, ok := in.Properties["bootstrap.servers"]; ok {
		return nil, PropertyFatal("bootstrap.servers", "bootstrap.servers belongs in bootstrap_servers, not in properties")
	}
	return &in, nil
}

// Props hands out properties by name and remembers which ones were used, so that a property no
// mapping took is refused (never silently ignored).
type Props struct {
	m      map[string]string
	used   map[string]bool
	native bool
}

// NewProps wraps a property map.
func NewProps(m map[string]string) *Props {
	return &Props{m: m, used: map[string]bool{}}
}

// Get is a property's trimmed value and whether it was given.
func (p *Props) Get(name string) (string, bool) {
	v, ok := p.m[name]
	if ok {
		p.used[name] = true
	}
	return strings.TrimSpace(v), ok
}

// Has says whether a property was given (without taking it).
func (p *Props) Has(name string) bool {
	_, ok := p.m[name]
	return ok
}

// Int is an integer property in [min, max].
func (p *Props) Int(name string, min, max int64) (int64, bool, error) {
	v, ok := p.Get(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, true, p.fatal(name, "%s=%q: expected an integer from %d to %d", name, v, min, max)
	}
	return n, true, nil
}

// Millis is a duration property in milliseconds (>= min).
func (p *Props) Millis(name string, min int64) (time.Duration, bool, error) {
	n, ok, err := p.Int(name, min, 1<<53)
	return time.Duration(n) * time.Millisecond, ok, err
}

// Bool is a true/false property.
func (p *Props) Bool(name string) (bool, bool, error) {
	v, ok := p.Get(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, p.fatal(name, "%s=%q: expected true or false", name, v)
}

func (p *Props) fatal(name, format string, args ...any) *Fatal {
	return &Fatal{Message: fmt.Sprintf(format, args...), Property: name, In: p.in()}
}

// AsNative marks p as the native map, for the "in" of fatal lines.
func (p *Props) AsNative() *Props {
	p.native = true
	return p
}

func (p *Props) in() string {
	if p.native {
		return "native"
	}
	return "properties"
}

// Unused refuses the first property no mapping took (sorted, so the error is stable).
func (p *Props) Unused(why string) error {
	var names []string
	for k := range p.m {
		if !p.used[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil
	}
	return p.fatal(names[0], "%s: %s", names[0], why)
}

// --- the warm-up before the started line ------------------------------------------------------

// WarmUpTimeout bounds the warm-up before the started line.
const WarmUpTimeout = 10 * time.Second

// WarmUp runs fn before the started line: the client fetches the topic's metadata and connects to
// the brokers that lead its partitions, so that record 0 leaves at once (the harness's clock starts
// at the started line). fn says what it did. It is bounded by WarmUpTimeout (fn gets the deadline
// in ctx; one that ignores it is left behind): an error or the timeout is logged on stderr and the
// driver carries on.
func WarmUp(fn func(ctx context.Context) (string, error)) {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), WarmUpTimeout)
	defer cancel()
	type result struct {
		what string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		what, err := fn(ctx)
		done <- result{what, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "driver: warm-up: %v; carrying on\n", r.err)
		} else {
			fmt.Fprintf(os.Stderr, "driver: warm-up: %s in %.1f ms\n", r.what, float64(time.Since(begin).Microseconds())/1000)
		}
	case <-ctx.Done():
		fmt.Fprintf(os.Stderr, "driver: warm-up: not done within %s; carrying on\n", WarmUpTimeout)
	}
}

// --- the send loop --------------------------------------------------------------------------

// Client is what a command gives the send loop.
type Client interface {
	// Send hands record id to the client. In sync mode it returns once the record's report was
	// made (or the wait exceeded the deadline: then it returns false). An error is one the send
	// call itself returned; the loop reports it.
	Send(id int64, key, value []byte, mode string) (ok bool, err error)
	// Flush waits for every record sent so far to be reported, or the deadline.
	Flush(deadline time.Time)
	// Close flushes what is left and closes, by the deadline.
	Close(deadline time.Time)
}

// Run is the workload: paces, numbers and sends the records, flushes, closes, prints the final
// line. grace is the delivery timeout plus 20 s: the longest one wait may take.
func Run(in *Input, c Client, r *Reporter, name, version string, grace time.Duration) {
	start = time.Now()
	emit(map[string]any{"event": "started", "ms": 0, "client": name, "client_version": version})
	valueSize := *in.ValueSize
	if valueSize < 8 {
		valueSize = 8
	}
	var sent int64
	for id := int64(0); id < in.Records; id++ {
		if in.Rate != nil {
			due := start.Add(time.Duration(float64(id) / *in.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
		}
		value := bytes.Repeat([]byte{'.'}, int(valueSize))
		binary.BigEndian.PutUint64(value, uint64(id))
		var key []byte
		if in.Keys > 0 {
			key = []byte(fmt.Sprintf("key-%d", id%in.Keys))
		}
		ok, err := c.Send(id, key, value, in.Mode)
		sent++
		if err != nil {
			r.Fail(id, err)
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "driver: record %d not reported within %s; stopping\n", id, grace)
			break
		}
		if in.FlushEvery != nil && (id+1)%*in.FlushEvery == 0 {
			c.Flush(time.Now().Add(grace))
			emit(map[string]any{"event": "flushed", "sent": sent, "ms": Ms()})
		}
	}
	// As the simulated workload does: flush, then close. Sarama fails a record still being retried
	// when it is closed (ErrShuttingDown); a flush first waits for every record's report.
	c.Flush(time.Now().Add(grace))
	c.Close(time.Now().Add(grace))
	acked, failed := r.Counts()
	emit(map[string]any{"done": true, "sent": sent, "acked": acked, "failed": failed, "ms": Ms(),
		"client": name, "client_version": version})
}

// ModuleVersion is the version of a module this binary was built with.
func ModuleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}

// Grace is the longest wait: delivery.timeout.ms (or 120 s) plus 20 s.
func Grace(deliveryTimeout time.Duration) time.Duration {
	if deliveryTimeout <= 0 {
		deliveryTimeout = 120 * time.Second
	}
	return deliveryTimeout + 20*time.Second
}
