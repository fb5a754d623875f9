// Command franz-go is franz-go (kgo) as a client of the ktrial compatibility matrix: it produces
// keyed records with acks=all and reads them back by direct partition consumption (no group) from
// the start up to each partition's high watermark.
package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"ktrial/compat/check"
)

var codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

func produce(ctx context.Context, run *check.Run) error {
	options := []kgo.Opt{
		kgo.SeedBrokers(run.Bootstrap...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(codecs[run.Codec]),
		kgo.AllowAutoTopicCreation(),
	}
	if !run.Idempotent {
		options = append(options, kgo.DisableIdempotentWrite())
	}
	client, err := kgo.NewClient(options...)
	if err != nil {
		return err
	}
	defer client.Close()
	records := make([]*kgo.Record, run.Records)
	for i := range records {
		records[i] = &kgo.Record{Topic: run.Topic, Key: []byte(check.Key(i)), Value: []byte(check.Value(run.Topic, i))}
	}
	return client.ProduceSync(ctx, records...).FirstErr()
}

func consume(ctx context.Context, run *check.Run) ([]check.Received, error) {
	admin, err := kgo.NewClient(kgo.SeedBrokers(run.Bootstrap...))
	if err != nil {
		return nil, err
	}
	ends, err := kadm.NewClient(admin).ListEndOffsets(ctx, run.Topic)
	admin.Close()
	if err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	remaining := map[int32]int64{}
	start := map[int32]kgo.Offset{}
	ends.Each(func(end kadm.ListedOffset) {
		if end.Offset > 0 {
			remaining[end.Partition] = end.Offset
			start[end.Partition] = kgo.NewOffset().AtStart()
		}
	})
	var received []check.Received
	if len(remaining) == 0 {
		return received, nil
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(run.Bootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{run.Topic: start}),
	)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	for len(remaining) > 0 {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %d records, partitions not read to their end %v: %w", len(received), remaining, err)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("fetch partition %d: %w", errs[0].Partition, errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			received = append(received, check.Received{Partition: r.Partition, Key: string(r.Key), Value: string(r.Value)})
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	return received, nil
}

func main() {
	check.Main(&check.Client{
		Name:    "franz-go",
		Module:  "github.com/twmb/franz-go",
		Codecs:  map[string]bool{"none": true, "gzip": true, "snappy": true, "lz4": true, "zstd": true},
		Produce: produce,
		Consume: consume,
	})
}
