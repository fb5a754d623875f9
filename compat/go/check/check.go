// Package check holds what the Go client programs of the ktrial compatibility matrix share: the
// command line, the record layout, the verification of what was read back, and the JSON result
// lines (compat/README.md describes all three).
package check

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Deadline bounds producing all records, and reading them back.
const Deadline = 30 * time.Second

// keys is how many keys the records cycle through, so that each key has many records in order.
const keys = 8

// Run is one invocation: produce Records keyed records to Topic, then read them back.
type Run struct {
	Bootstrap  []string
	Codec      string
	Idempotent bool
	Records    int
	Topic      string
}

// Received is one record read back, in offset order within its partition.
type Received struct {
	Partition  int32
	Key, Value string
}

// Client is what a client program provides.
type Client struct {
	Name   string
	Module string // Go module path, whose version is reported
	// Codecs the client can produce with.
	Codecs  map[string]bool
	Produce func(ctx context.Context, run *Run) error
	Consume func(ctx context.Context, run *Run) ([]Received, error)
}

// Key is the key of record i.
func Key(i int) string { return fmt.Sprintf("key-%d", i%keys) }

// Value is the value of record i of topic.
func Value(topic string, i int) string {
	return fmt.Sprintf("%s:%d:%s", topic, i, strings.Repeat("x", 64))
}

// Verify checks count, content, no duplicates, and the order of each key's records in its partition.
func Verify(run *Run, received []Received) error {
	if len(received) != run.Records {
		return fmt.Errorf("read %d records, produced %d", len(received), run.Records)
	}
	seen := make([]bool, run.Records)
	type last struct {
		partition int32
		index     int
	}
	lastOfKey := map[string]last{}
	for _, r := range received {
		fields := strings.Split(r.Value, ":")
		index := -1
		if len(fields) > 2 {
			if i, err := strconv.Atoi(fields[1]); err == nil {
				index = i
			}
		}
		if index < 0 || index >= run.Records {
			return fmt.Errorf("unexpected value %q", r.Value)
		}
		if r.Value != Value(run.Topic, index) || r.Key != Key(index) {
			return fmt.Errorf("record %d altered: key %q", index, r.Key)
		}
		if seen[index] {
			return fmt.Errorf("record %d read twice", index)
		}
		seen[index] = true
		if previous, ok := lastOfKey[r.Key]; ok && (previous.partition != r.Partition || previous.index > index) {
			return fmt.Errorf("key %s: record %d (partition %d) after %d (partition %d)",
				r.Key, index, r.Partition, previous.index, previous.partition)
		}
		lastOfKey[r.Key] = last{r.Partition, index}
	}
	return nil
}

func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func report(client *Client, run *Run, check, result string, started time.Time, detail string) {
	line, _ := json.Marshal(map[string]any{
		"client":         client.Name,
		"client_version": moduleVersion(client.Module),
		"check":          check,
		"codec":          run.Codec,
		"idempotent":     run.Idempotent,
		"result":         result,
		"records":        run.Records,
		"ms":             time.Since(started).Milliseconds(),
		"detail":         detail,
	})
	fmt.Println(string(line))
}

// Main parses `BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]`, runs the checks, prints one JSON
// line per check and exits 0 when none failed.
func Main(client *Client) {
	args := os.Args[1:]
	if len(args) < 3 || len(args) > 4 {
		fmt.Fprintf(os.Stderr, "usage: %s BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]\n", client.Name)
		os.Exit(2)
	}
	mode := "plain"
	if len(args) == 4 {
		mode = args[3]
	}
	records := 1000
	if n, err := strconv.Atoi(os.Getenv("COMPAT_RECORDS")); err == nil && n > 0 {
		records = n
	}
	run := &Run{
		Bootstrap:  strings.Split(args[0], ","),
		Codec:      args[2],
		Idempotent: mode == "idempotent",
		Records:    records,
		Topic:      fmt.Sprintf("%s-%s-%s", args[1], args[2], mode),
	}
	if !client.Codecs[run.Codec] {
		for _, check := range []string{"produce", "consume"} {
			report(client, run, check, "unsupported", time.Now(), "codec not supported by the client")
		}
		return
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	err := client.Produce(ctx, run)
	cancel()
	if err != nil {
		report(client, run, "produce", "fail", started, err.Error())
		report(client, run, "consume", "fail", time.Now(), "not run: produce failed")
		os.Exit(1)
	}
	report(client, run, "produce", "pass", started, "")
	started = time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), Deadline)
	received, err := client.Consume(ctx, run)
	cancel()
	if err == nil {
		err = Verify(run, received)
	}
	if err != nil {
		report(client, run, "consume", "fail", started, err.Error())
		os.Exit(1)
	}
	report(client, run, "consume", "pass", started, "")
}
