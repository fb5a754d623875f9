// The franz-go driver (docs/drivers.md): a kgo.Client producing with Produce (async,
// fire-and-forget) or ProduceSync (sync), the workload's properties mapped to kgo options.
package main

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"ktrial/drivers/internal/driver"
)

type settings struct {
	opts     []kgo.Opt
	acksZero bool
	delivery time.Duration
}

func configure(in *driver.Input) (*settings, error) {
	s := &settings{opts: []kgo.Opt{
		kgo.SeedBrokers(in.Bootstrap()...),
		// Java's producer asks for unknown topics to be created; kgo does not unless told.
		kgo.AllowAutoTopicCreation(),
	}}
	add := func(o kgo.Opt) { s.opts = append(s.opts, o) }
	p := driver.NewProps(in.Properties)

	idempotent := true // kgo's default
	if b, ok, err := p.Bool("enable.idempotence"); err != nil {
		return nil, err
	} else if ok && !b {
		idempotent = false
		add(kgo.DisableIdempotentWrite())
	}
	if v, ok := p.Get("acks"); ok {
		switch v {
		case "0":
			add(kgo.RequiredAcks(kgo.NoAck()))
			s.acksZero = true
		case "1":
			add(kgo.RequiredAcks(kgo.LeaderAck()))
		case "all", "-1":
			add(kgo.RequiredAcks(kgo.AllISRAcks()))
		default:
			return nil, driver.PropertyFatal("acks", "acks=%q: expected all, -1, 0 or 1", v)
		}
		if idempotent && v != "all" && v != "-1" {
			return nil, driver.PropertyFatal("acks",
				"franz-go: idempotency requires acks=all (idempotent writes are on unless enable.idempotence=false)")
		}
	}
	if d, ok, err := p.Millis("linger.ms", 0); err != nil {
		return nil, err
	} else if ok {
		add(kgo.ProducerLinger(d))
	}
	if n, ok, err := p.Int("batch.size", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		add(kgo.ProducerBatchMaxBytes(int32(n)))
	}
	if p.Has("batch.num.messages") {
		return nil, driver.PropertyFatal("batch.num.messages",
			"batch.num.messages: franz-go bounds batches by bytes only (ProducerBatchMaxBytes), not by record count")
	}
	if n, ok, err := p.Int("max.request.size", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		add(kgo.BrokerMaxWriteBytes(int32(n)))
	}
	if n, ok, err := p.Int("max.in.flight.requests.per.connection", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		switch {
		case !idempotent:
			add(kgo.MaxProduceRequestsInflightPerBroker(int(n)))
		case n != 5:
			return nil, driver.PropertyFatal("max.in.flight.requests.per.connection",
				"max.in.flight.requests.per.connection=%d: franz-go's idempotent producer always keeps 5 requests in flight per broker (MaxProduceRequestsInflightPerBroker applies only with enable.idempotence=false)", n)
		}
	}
	if n, ok, err := p.Int("retries", 0, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		add(kgo.RecordRetries(int(n)))
	}
	base, baseOk, err := p.Millis("retry.backoff.ms", 0)
	if err != nil {
		return nil, err
	}
	max, maxOk, err := p.Millis("retry.backoff.max.ms", 0)
	if err != nil {
		return nil, err
	}
	if baseOk || maxOk {
		// Java's backoff (KIP-580): retry.backoff.ms * 2^(tries-1), at most retry.backoff.max.ms,
		// ±20 %; Java's defaults (100 ms, 1000 ms) for the one not given.
		if !baseOk {
			base = 100 * time.Millisecond
		}
		if !maxOk {
			max = 1000 * time.Millisecond
		}
		if max < base {
			max = base
		}
		add(kgo.RetryBackoffFn(func(tries int) time.Duration {
			d := float64(base) * math.Pow(2, float64(tries-1))
			if d > float64(max) {
				d = float64(max)
			}
			return time.Duration(d * (0.8 + 0.4*rand.Float64()))
		}))
	}
	if v, ok := p.Get("compression.type"); ok {
		codec, known := map[string]kgo.CompressionCodec{
			"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
			"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
		}[v]
		if !known {
			return nil, driver.PropertyFatal("compression.type", "compression.type=%q: expected none, gzip, snappy, lz4 or zstd", v)
		}
		add(kgo.ProducerBatchCompression(codec))
	}
	if d, ok, err := p.Millis("request.timeout.ms", 1); err != nil {
		return nil, err
	} else if ok {
		add(kgo.ProduceRequestTimeout(d))
	}
	if d, ok, err := p.Millis("delivery.timeout.ms", 1); err != nil {
		return nil, err
	} else if ok {
		add(kgo.RecordDeliveryTimeout(d))
		s.delivery = d
	}
	if v, ok := p.Get("client.id"); ok {
		add(kgo.ClientID(v))
	}
	if err := p.Unused("not a property the franz-go driver maps (docs/drivers.md); kgo options go in native"); err != nil {
		return nil, err
	}
	if err := native(s, driver.NewProps(in.Native).AsNative()); err != nil {
		return nil, err
	}
	return s, nil
}

// native applies the documented kgo options, named as the option functions.
func native(s *settings, n *driver.Props) error {
	add := func(o kgo.Opt) { s.opts = append(s.opts, o) }
	durations := map[string]func(time.Duration) kgo.Opt{
		"ProducerLinger":         func(d time.Duration) kgo.Opt { return kgo.ProducerLinger(d) },
		"RequestTimeoutOverhead": func(d time.Duration) kgo.Opt { return kgo.RequestTimeoutOverhead(d) },
		"ProduceRequestTimeout":  func(d time.Duration) kgo.Opt { return kgo.ProduceRequestTimeout(d) },
		"RecordDeliveryTimeout":  func(d time.Duration) kgo.Opt { return kgo.RecordDeliveryTimeout(d) },
		"MetadataMinAge":         func(d time.Duration) kgo.Opt { return kgo.MetadataMinAge(d) },
		"MetadataMaxAge":         func(d time.Duration) kgo.Opt { return kgo.MetadataMaxAge(d) },
		"ConnIdleTimeout":        func(d time.Duration) kgo.Opt { return kgo.ConnIdleTimeout(d) },
	}
	for name, opt := range durations {
		if d, ok, err := n.Millis(name, 0); err != nil {
			return err
		} else if ok {
			add(opt(d))
			if name == "RecordDeliveryTimeout" {
				s.delivery = d
			}
		}
	}
	ints := map[string]func(int64) kgo.Opt{
		"ProducerBatchMaxBytes":               func(v int64) kgo.Opt { return kgo.ProducerBatchMaxBytes(int32(v)) },
		"BrokerMaxWriteBytes":                 func(v int64) kgo.Opt { return kgo.BrokerMaxWriteBytes(int32(v)) },
		"MaxProduceRequestsInflightPerBroker": func(v int64) kgo.Opt { return kgo.MaxProduceRequestsInflightPerBroker(int(v)) },
		"RecordRetries":                       func(v int64) kgo.Opt { return kgo.RecordRetries(int(v)) },
		"UnknownTopicRetries":                 func(v int64) kgo.Opt { return kgo.UnknownTopicRetries(int(v)) },
		"MaxBufferedRecords":                  func(v int64) kgo.Opt { return kgo.MaxBufferedRecords(int(v)) },
		"MaxBufferedBytes":                    func(v int64) kgo.Opt { return kgo.MaxBufferedBytes(int(v)) },
	}
	for name, opt := range ints {
		if v, ok, err := n.Int(name, 0, math.MaxInt32); err != nil {
			return err
		} else if ok {
			add(opt(v))
		}
	}
	if v, ok := n.Get("RecordPartitioner"); ok {
		partitioners := map[string]func() kgo.Partitioner{
			"sticky-key":    func() kgo.Partitioner { return kgo.StickyKeyPartitioner(nil) },
			"sticky":        kgo.StickyPartitioner,
			"round-robin":   kgo.RoundRobinPartitioner,
			"least-backup":  kgo.LeastBackupPartitioner,
			"uniform-bytes": func() kgo.Partitioner { return kgo.UniformBytesPartitioner(64<<10, true, true, nil) },
		}
		partitioner, known := partitioners[v]
		if !known {
			return driver.NativeFatal("RecordPartitioner",
				"RecordPartitioner=%q: expected sticky-key, sticky, round-robin, least-backup or uniform-bytes", v)
		}
		add(kgo.RecordPartitioner(partitioner()))
	}
	if v, ok, err := n.Bool("AllowIdempotentProduceCancellation"); err != nil {
		return err
	} else if ok && v {
		add(kgo.AllowIdempotentProduceCancellation())
	}
	return n.Unused("not a kgo option this driver knows (docs/drivers.md lists them)")
}

type client struct {
	kgo      *kgo.Client
	reporter *driver.Reporter
	topic    string
	grace    time.Duration
}

func (c *client) report(id int64, r *kgo.Record, err error) {
	if err != nil {
		c.reporter.Fail(id, err)
	} else {
		c.reporter.Ack(id, r.Partition, r.Offset)
	}
}

func (c *client) Send(id int64, key, value []byte, mode string) (bool, error) {
	r := &kgo.Record{Topic: c.topic, Key: key, Value: value}
	switch mode {
	case "sync":
		done := make(chan struct{})
		c.kgo.Produce(context.Background(), r, func(r *kgo.Record, err error) {
			c.report(id, r, err)
			close(done)
		})
		select {
		case <-done:
			return true, nil
		case <-time.After(c.grace):
			return false, nil
		}
	case "async":
		c.kgo.Produce(context.Background(), r, func(r *kgo.Record, err error) { c.report(id, r, err) })
	default:
		c.kgo.Produce(context.Background(), r, nil)
	}
	return true, nil
}

func (c *client) Flush(deadline time.Time) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := c.kgo.Flush(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "driver: flush: %v\n", err)
	}
}

func (c *client) Close(deadline time.Time) {
	c.Flush(deadline)
	closed := make(chan struct{})
	go func() { c.kgo.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		fmt.Fprintln(os.Stderr, "driver: franz-go did not close within 5 s")
	}
}

// warmUp is the warm-up before the started line (driver.WarmUp): a Metadata request for the topic
// through the client (kgo takes it over to learn the brokers, and asks for the topic to be created
// as the driver's AllowAutoTopicCreation does), then one request to each partition leader, which
// opens a connection to it and learns its API versions. kgo has no call that makes its producer
// load a topic before the first record: that record still triggers the producer's own metadata
// refresh (now on an open connection), and the Produce goes on a connection of its own (kgo keeps
// one per kind of request), which starts with its ApiVersions exchange. Last, ProducerID loads the
// idempotent producer's id.
func warmUp(ctx context.Context, k *kgo.Client, topic string) (string, error) {
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	req.AllowAutoTopicCreation = true
	// A topic just auto-created has no leader yet (LEADER_NOT_AVAILABLE): ask again.
	var leaders map[int32]bool
	var partitions int
	for {
		resp, err := req.RequestWith(ctx, k)
		if err != nil {
			return "", fmt.Errorf("metadata for %s: %w", topic, err)
		}
		leaders, partitions, err = topicLeaders(resp, topic)
		if err == nil && len(leaders) > 0 {
			break
		}
		if err != nil && !kerr.IsRetriable(err) {
			return "", fmt.Errorf("metadata for %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("metadata for %s: no leaders (%v)", topic, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	ids := []int32{}
	for id := range leaders {
		// The same topic's metadata again, from the leader: kgo connects to it first.
		if _, err := k.Broker(int(id)).Request(ctx, req); err != nil {
			return "", fmt.Errorf("leader %d: %w", id, err)
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	what := fmt.Sprintf("%s: %d partition(s), leaders %v connected", topic, partitions, ids)
	// The idempotent producer's id, which kgo otherwise asks for when the first batch is ready
	// (with idempotence off this returns at once).
	if id, _, err := k.ProducerID(ctx); err != nil {
		return "", fmt.Errorf("%s; producer id: %w", what, err)
	} else if id >= 0 {
		what += fmt.Sprintf(", producer id %d", id)
	}
	return what, nil
}

// topicLeaders is the topic's partition leaders and partition count in a Metadata response.
func topicLeaders(resp *kmsg.MetadataResponse, topic string) (map[int32]bool, int, error) {
	leaders := map[int32]bool{}
	partitions := 0
	for _, rt := range resp.Topics {
		if rt.Topic == nil || *rt.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return nil, 0, err
		}
		for _, p := range rt.Partitions {
			partitions++
			if p.Leader >= 0 {
				leaders[p.Leader] = true
			}
		}
	}
	return leaders, partitions, nil
}

func main() {
	in, err := driver.ReadInput()
	if err != nil {
		driver.PrintFatal(err)
	}
	s, err := configure(in)
	if err != nil {
		driver.PrintFatal(err)
	}
	if os.Getenv("DRIVER_DEBUG") != "" {
		s.opts = append(s.opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	k, err := kgo.NewClient(s.opts...)
	if err != nil {
		driver.PrintFatal(&driver.Fatal{Message: "franz-go: " + err.Error(), In: "properties"})
	}
	reporter := driver.NewReporter()
	reporter.AcksZero = s.acksZero
	c := &client{kgo: k, reporter: reporter, topic: in.Topic, grace: driver.Grace(s.delivery)}
	driver.WarmUp(func(ctx context.Context) (string, error) { return warmUp(ctx, k, in.Topic) })
	driver.Run(in, c, reporter, "franz-go", "franz-go "+driver.ModuleVersion("github.com/twmb/franz-go"), c.grace)
}
