package example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Subscribes to every public Omnibus topic listed in the AsyncAPI document and prints each record.
 *
 * <p>Values use the registry-free framing, the Avro single-object encoding: {@code C3 01}, the 8-byte
 * little-endian CRC-64-AVRO fingerprint of the writer schema, then the Avro body. The schemas come
 * from the AsyncAPI document (docs/asyncapi.yaml), so internal topics are never subscribed to.
 * Delivery is at least once: dedupe on {@code envelope.event_id} before applying a record. A record without a
 * value (a tombstone, on {@code customer.identifiers.v1} only) means the identifier belongs to nobody now: delete it
 * from your copy (docs/subscribers.md, "Keys, and what a tombstone means").
 *
 * <p>Arguments: bootstrap servers, path to asyncapi.yaml, consumer group, topic prefix (omnibus), and
 * optionally how many records to print before stopping (default: run until stopped).
 */
public final class OmnibusConsumer {
  private static final byte[] MAGIC = {(byte) 0xC3, (byte) 0x01};

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    JsonNode document = new ObjectMapper(new YAMLFactory()).readTree(new File(args[1]));
    String group = args[2];
    String prefix = args.length > 3 ? args[3] : "omnibus";
    long maxRecords = args.length > 4 ? Long.parseLong(args[4]) : Long.MAX_VALUE;

    List<String> topics = new ArrayList<>();
    document.get("channels").forEach(channel ->
        topics.add(channel.get("address").asText().replaceFirst("^omnibus\\.", prefix + ".")));
    Map<Long, Schema> schemas = new HashMap<>();
    for (JsonNode message : document.get("components").get("messages")) {
      Schema schema = new Schema.Parser().parse(message.get("payload").get("schema").toString());
      schemas.put(SchemaNormalization.parsingFingerprint64(schema), schema);
    }

    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(topics);
      long seen = 0;
      while (seen < maxRecords) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
          if (record.value() == null) { // a tombstone: on customer.identifiers.v1, nobody owns the identifier now
            System.out.printf("%s %s deleted%n", record.topic(), record.key());
            seen++;
            continue;
          }
          GenericRecord value = decode(record.value(), schemas);
          System.out.printf("%s %s %s %s%n", record.topic(), record.key(), value.getSchema().getFullName(), value);
          seen++;
        }
        consumer.commitSync(); // after the records were handled: at least once
      }
    }
  }

  static GenericRecord decode(byte[] value, Map<Long, Schema> schemas) throws java.io.IOException {
    if (value.length < 10 || value[0] != MAGIC[0] || value[1] != MAGIC[1]) {
      throw new IllegalArgumentException("not Avro single-object encoding");
    }
    long fingerprint = ByteBuffer.wrap(value, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    Schema schema = schemas.get(fingerprint);
    if (schema == null) {
      throw new IllegalArgumentException("unknown schema: update the AsyncAPI document");
    }
    return new GenericDatumReader<GenericRecord>(schema)
        .read(null, DecoderFactory.get().binaryDecoder(value, 10, value.length - 10, null));
  }
}
