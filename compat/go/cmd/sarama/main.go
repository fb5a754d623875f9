// Command sarama is IBM Sarama as a client of the ktrial compatibility matrix: it produces keyed
// records with acks=all through a SyncProducer and reads them back with partition consumers (no
// group) from the oldest offset up to each partition's high watermark.
package main

import (
	"context"
	"fmt"

	"github.com/IBM/sarama"

	"ktrial/compat/check"
)

var codecs = map[string]sarama.CompressionCodec{
	"none":   sarama.CompressionNone,
	"gzip":   sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy,
	"lz4":    sarama.CompressionLZ4,
	"zstd":   sarama.CompressionZSTD,
}

func config(run *check.Run) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "ktrial-compat"
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Compression = codecs[run.Codec]
	config.Producer.Timeout = check.Deadline
	config.Consumer.Return.Errors = true
	if run.Idempotent {
		// Sarama's conditions for the idempotent producer.
		config.Producer.Idempotent = true
		config.Net.MaxOpenRequests = 1
	}
	return config
}

func produce(_ context.Context, run *check.Run) error {
	producer, err := sarama.NewSyncProducer(run.Bootstrap, config(run))
	if err != nil {
		return err
	}
	messages := make([]*sarama.ProducerMessage, run.Records)
	for i := range messages {
		messages[i] = &sarama.ProducerMessage{
			Topic: run.Topic,
			Key:   sarama.StringEncoder(check.Key(i)),
			Value: sarama.StringEncoder(check.Value(run.Topic, i)),
		}
	}
	err = producer.SendMessages(messages)
	if closeErr := producer.Close(); err == nil {
		err = closeErr
	}
	return err
}

func consume(ctx context.Context, run *check.Run) ([]check.Received, error) {
	client, err := sarama.NewClient(run.Bootstrap, config(run))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	partitions, err := client.Partitions(run.Topic)
	if err != nil {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	var received []check.Received
	for _, partition := range partitions {
		end, err := client.GetOffset(run.Topic, partition, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("end offset of partition %d: %w", partition, err)
		}
		if end == 0 {
			continue
		}
		reader, err := consumer.ConsumePartition(run.Topic, partition, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("consume partition %d: %w", partition, err)
		}
		for done := false; !done; {
			select {
			case message := <-reader.Messages():
				received = append(received, check.Received{Partition: partition, Key: string(message.Key), Value: string(message.Value)})
				done = message.Offset+1 >= end
			case consumerErr := <-reader.Errors():
				reader.Close()
				return nil, consumerErr
			case <-ctx.Done():
				reader.Close()
				return nil, fmt.Errorf("read %d records, partition %d not read to offset %d: %w", len(received), partition, end, ctx.Err())
			}
		}
		reader.Close()
	}
	return received, nil
}

func main() {

	check.Main(&check.Client{
		Name:    "sarama",
		Module:  "github.com/IBM/sarama",
		Codecs:  map[string]bool{"none": true, "gzip": true, "snappy": true, "lz4": true, "zstd": true},
		Produce: produce,
		Consume: consume,
	})
}
