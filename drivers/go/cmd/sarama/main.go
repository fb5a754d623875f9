// The Sarama driver (docs/drivers.md): IBM Sarama's AsyncProducer, with the workload's properties
// mapped to sarama.Config. Sarama has no flush(): flush_every and the final close wait for every
// outstanding report (buffered records still leave at Flush.Frequency, not sooner).
package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"ktrial/drivers/internal/driver"
)

// fieldProperty names the Kafka property behind a sarama.Config field, so that Sarama's own
// validation errors can name the property to change.
var fieldProperty = []struct{ field, property string }{
	{"Net.MaxOpenRequests", "max.in.flight.requests.per.connection"},
	{"Producer.RequiredAcks", "acks"},
	{"Producer.Retry.Max", "retries"},
	{"Producer.Retry.Backoff", "retry.backoff.ms"},
	{"Producer.MaxMessageBytes", "batch.size"},
	{"Producer.Flush.MaxMessages", "batch.num.messages"},
	{"Producer.Flush.Messages", "batch.num.messages"},
	{"Producer.Flush.Frequency", "linger.ms"},
	{"Producer.Timeout", "request.timeout.ms"},
	{"Net.ReadTimeout", "request.timeout.ms"},
	{"compression", "compression.type"},
	{"Idempotent", "enable.idempotence"},
}

type settings struct {
	config    *sarama.Config
	acksZero  bool
	delivery  time.Duration
	backoff   time.Duration
	backoffMx time.Duration
	expBackof bool
}

func configure(in *driver.Input) (*settings, error) {
	c := sarama.NewConfig()
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	s := &settings{config: c}
	p := driver.NewProps(in.Properties)

	if v, ok := p.Get("acks"); ok {
		switch v {
		case "0":
			c.Producer.RequiredAcks = sarama.NoResponse
			s.acksZero = true
		case "1":
			c.Producer.RequiredAcks = sarama.WaitForLocal
		case "all", "-1":
			c.Producer.RequiredAcks = sarama.WaitForAll
		default:
			return nil, driver.PropertyFatal("acks", "acks=%q: expected all, -1, 0 or 1", v)
		}
	}
	if d, ok, err := p.Millis("linger.ms", 0); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Flush.Frequency = d
	}
	if n, ok, err := p.Int("batch.size", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		c.Producer.MaxMessageBytes = int(n)
	}
	if n, ok, err := p.Int("batch.num.messages", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Flush.MaxMessages = int(n)
		c.Producer.Flush.Messages = int(n)
	}
	if n, ok, err := p.Int("max.request.size", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		sarama.MaxRequestSize = int32(n)
	}
	if n, ok, err := p.Int("max.in.flight.requests.per.connection", 1, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		c.Net.MaxOpenRequests = int(n)
	}
	if n, ok, err := p.Int("retries", 0, math.MaxInt32); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Retry.Max = int(n)
	}
	if d, ok, err := p.Millis("retry.backoff.ms", 0); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Retry.Backoff = d
	}
	if d, ok, err := p.Millis("retry.backoff.max.ms", 0); err != nil {
		return nil, err
	} else if ok {
		// Java's exponential backoff (KIP-580): backoff * 2^(attempt-1), at most max, ±20 %.
		s.backoffMx = d
		s.expBackof = true
	}
	if b, ok, err := p.Bool("enable.idempotence"); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Idempotent = b
	}
	if v, ok := p.Get("compression.type"); ok {
		codec, known := map[string]sarama.CompressionCodec{
			"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
			"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
		}[v]
		if !known {
			return nil, driver.PropertyFatal("compression.type", "compression.type=%q: expected none, gzip, snappy, lz4 or zstd", v)
		}
		c.Producer.Compression = codec
	}
	if d, ok, err := p.Millis("request.timeout.ms", 1); err != nil {
		return nil, err
	} else if ok {
		c.Producer.Timeout = d
		c.Net.ReadTimeout = d
	}
	if v, ok := p.Get("client.id"); ok {
		c.ClientID = v
	}
	if p.Has("delivery.timeout.ms") {
		return nil, driver.PropertyFatal("delivery.timeout.ms",
			"delivery.timeout.ms: Sarama has no delivery timeout (a record fails after Producer.Retry.Max retries, however long they take)")
	}
	if err := p.Unused("not a property the Sarama driver maps (docs/drivers.md); Sarama settings go in native"); err != nil {
		return nil, err
	}

	if err := native(c, s, driver.NewProps(in.Native).AsNative()); err != nil {
		return nil, err
	}
	if s.expBackof {
		base, max := c.Producer.Retry.Backoff, s.backoffMx
		c.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
			d := float64(base) * math.Pow(2, float64(retries-1))
			if d > float64(max) {
				d = float64(max)
			}
			return time.Duration(d * (0.8 + 0.4*rand.Float64()))
		}
	}
	if err := c.Validate(); err != nil {
		return nil, configError(err, in)
	}
	return s, nil
}

// native applies the documented sarama.Config fields given by their Go path.
func native(c *sarama.Config, s *settings, n *driver.Props) error {
	ints := map[string]*int{
		"Producer.Flush.Bytes":       &c.Producer.Flush.Bytes,
		"Producer.Flush.Messages":    &c.Producer.Flush.Messages,
		"Producer.Flush.MaxMessages": &c.Producer.Flush.MaxMessages,
		"Producer.MaxMessageBytes":   &c.Producer.MaxMessageBytes,
		"Producer.Retry.Max":         &c.Producer.Retry.Max,
		"Producer.CompressionLevel":  &c.Producer.CompressionLevel,
		"Net.MaxOpenRequests":        &c.Net.MaxOpenRequests,
		"Metadata.Retry.Max":         &c.Metadata.Retry.Max,
	}
	for name, field := range ints {
		if v, ok, err := n.Int(name, math.MinInt32, math.MaxInt32); err != nil {
			return err
		} else if ok {
			*field = int(v)
		}
	}
	millis := map[string]*time.Duration{
		"Producer.Flush.Frequency":  &c.Producer.Flush.Frequency,
		"Producer.Timeout":          &c.Producer.Timeout,
		"Producer.Retry.Backoff":    &c.Producer.Retry.Backoff,
		"Net.ReadTimeout":           &c.Net.ReadTimeout,
		"Net.WriteTimeout":          &c.Net.WriteTimeout,
		"Net.DialTimeout":           &c.Net.DialTimeout,
		"Metadata.Retry.Backoff":    &c.Metadata.Retry.Backoff,
		"Metadata.RefreshFrequency": &c.Metadata.RefreshFrequency,
	}
	for name, field := range millis {
		if d, ok, err := n.Millis(name, 0); err != nil {
			return err
		} else if ok {
			*field = d
		}
	}
	if v, ok := n.Get("Version"); ok {
		version, err := sarama.ParseKafkaVersion(v)
		if err != nil {
			return driver.NativeFatal("Version", "Version=%q: %v", v, err)
		}
		c.Version = version
	}
	if v, ok := n.Get("MaxRequestSize"); ok {
		size, err := strconv.ParseInt(v, 10, 32)
		if err != nil || size <= 0 {
			return driver.NativeFatal("MaxRequestSize", "MaxRequestSize=%q: expected a positive int32", v)
		}
		sarama.MaxRequestSize = int32(size)
	}
	if v, ok := n.Get("Producer.Partitioner"); ok {
		partitioners := map[string]sarama.PartitionerConstructor{
			"hash":           sarama.NewHashPartitioner,
			"reference-hash": sarama.NewReferenceHashPartitioner,
			"consistent-crc": sarama.NewConsistentCRCHashPartitioner,
			"random":         sarama.NewRandomPartitioner,
			"round-robin":    sarama.NewRoundRobinPartitioner,
		}
		partitioner, known := partitioners[v]
		if !known {
			return driver.NativeFatal("Producer.Partitioner",
				"Producer.Partitioner=%q: expected hash, reference-hash, consistent-crc, random or round-robin", v)
		}
		c.Producer.Partitioner = partitioner
	}
	return n.Unused("not a Sarama setting this driver knows (docs/drivers.md lists them)")
}

// configError turns Sarama's validation error into a fatal naming what to change: the native
// field when it was given there, else the Kafka property behind the field.
func configError(err error, in *driver.Input) error {
	msg := "sarama: " + err.Error()
	for _, fp := range fieldProperty {
		if strings.Contains(err.Error(), fp.field) || strings.Contains(strings.ToLower(err.Error()), fp.field) {
			if _, ok := in.Native[fp.field]; ok {
				return driver.NativeFatal(fp.field, "%s", msg)
			}
			return driver.PropertyFatal(fp.property, "%s", msg)
		}
	}
	return driver.PropertyFatal("", "%s", msg)
}

// client is the AsyncProducer with a report per record and the set of records outstanding (a set,
// not a count: a second report of one record must not let a flush end before another's).
type client struct {
	producer    sarama.AsyncProducer
	sc          sarama.Client // the producer's client, closed after it
	reporter    *driver.Reporter
	quiet       bool // fire-and-forget: no report lines
	mu          sync.Mutex
	cond        *sync.Cond
	outstanding map[int64]struct{}
	waiting     map[int64]chan struct{}
	done        chan struct{}
}

func (c *client) finish(id int64) {
	c.mu.Lock()
	delete(c.outstanding, id)
	if ch, ok := c.waiting[id]; ok {
		close(ch)
		delete(c.waiting, id)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *client) collect() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for msg := range c.producer.Successes() {
			id := msg.Metadata.(int64)
			if !c.quiet {
				c.reporter.Ack(id, msg.Partition, msg.Offset)
			}
			c.finish(id)
		}
	}()
	go func() {
		defer wg.Done()
		for perr := range c.producer.Errors() {
			id := perr.Msg.Metadata.(int64)
			if !c.quiet {
				c.reporter.Fail(id, perr.Err)
			}
			c.finish(id)
		}
	}()
	wg.Wait()
	close(c.done)
}

func (c *client) Send(id int64, key, value []byte, mode string) (bool, error) {
	msg := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(value), Metadata: id}
	if key != nil {
		msg.Key = sarama.ByteEncoder(key)
	}
	var wait chan struct{}
	c.mu.Lock()
	c.outstanding[id] = struct{}{}
	if mode == "sync" {
		wait = make(chan struct{})
		c.waiting[id] = wait
	}
	c.mu.Unlock()
	c.producer.Input() <- msg
	if wait == nil {
		return true, nil
	}
	select {
	case <-wait:
		return true, nil
	case <-time.After(grace):
		return false, nil
	}
}

func (c *client) Flush(deadline time.Time) {
	timer := time.AfterFunc(time.Until(deadline), func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	for len(c.outstanding) > 0 && time.Now().Before(deadline) {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

func (c *client) Close(deadline time.Time) {
	c.producer.AsyncClose()
	select {
	case <-c.done:
	case <-time.After(time.Until(deadline)):
		fmt.Fprintln(os.Stderr, "driver: sarama did not close by the deadline")
		return
	}
	if err := c.sc.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "driver: sarama client close: %v\n", err)
	}
}

// warmUp is the warm-up before the started line (driver.WarmUp): the topic's partitions
// (Partitions fetches the topic's metadata when the client has none, asking for it to be
// created as a Produce would) and each partition's leader (Leader opens the connection, in the
// background); Connected waits for that dial and the ApiVersions exchange that follows it.
func warmUp(sc sarama.Client, topic string) (string, error) {
	partitions, err := sc.Partitions(topic)
	if err != nil {
		return "", fmt.Errorf("Partitions(%s): %w", topic, err)
	}
	leaders := map[int32]*sarama.Broker{}
	for _, p := range partitions {
		b, err := sc.Leader(topic, p)
		if err != nil {
			return "", fmt.Errorf("Leader(%s, %d): %w", topic, p, err)
		}
		leaders[b.ID()] = b
	}
	ids := []int32{}
	for id, b := range leaders {
		if ok, err := b.Connected(); !ok {
			return "", fmt.Errorf("leader %d (%s) not connected: %v", id, b.Addr(), err)
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return fmt.Sprintf("%s: %d partition(s), leaders %v connected", topic, len(partitions), ids), nil
}

var (
	topic string
	grace time.Duration
)

func main() {
	in, err := driver.ReadInput()
	if err != nil {
		driver.PrintFatal(err)
	}
	if os.Getenv("DRIVER_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "sarama: ", log.LstdFlags|log.Lmicroseconds)
	}
	s, err := configure(in)
	if err != nil {
		driver.PrintFatal(err)
	}
	topic = in.Topic
	grace = driver.Grace(s.delivery)
	// NewAsyncProducer's own steps (a client, then the producer on it), keeping the client for the
	// warm-up; the producer does not close a client it was given, Close does.
	sc, err := sarama.NewClient(in.Bootstrap(), s.config)
	if err != nil {
		driver.PrintFatal(fmt.Errorf("sarama: %w", err))
	}
	producer, err := sarama.NewAsyncProducerFromClient(sc)
	if err != nil {
		_ = sc.Close()
		driver.PrintFatal(fmt.Errorf("sarama: %w", err))
	}
	reporter := driver.NewReporter()
	reporter.AcksZero = s.acksZero
	c := &client{producer: producer, sc: sc, reporter: reporter, quiet: in.Mode == "fire-and-forget",
		waiting: map[int64]chan struct{}{}, outstanding: map[int64]struct{}{}, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.collect()
	driver.WarmUp(func(context.Context) (string, error) { return warmUp(sc, in.Topic) })
	driver.Run(in, c, reporter, "sarama", "sarama "+driver.ModuleVersion("github.com/IBM/sarama"), grace)
}
