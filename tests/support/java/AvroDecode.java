import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;

/**
 * Decodes Confluent-framed Avro messages (one base64 value per stdin line) with Apache Avro
 * for Java and the writer schema fetched from the registry by the id in the frame; prints
 * each record as one JSON line: decimals as plain strings, dates as yyyy-MM-dd, timestamps
 * as ISO instants with milliseconds. Usage: java AvroDecode.java <ccompat base URL>
 */
public class AvroDecode {
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  public static void main(String[] args) throws Exception {
    String registry = args[0];
    HttpClient http = HttpClient.newHttpClient();
    Map<Integer, Schema> schemas = new HashMap<>();
    GenericData data = new GenericData();
    data.addLogicalTypeConversion(new Conversions.DecimalConversion());
    data.addLogicalTypeConversion(new TimeConversions.DateConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      ByteBuffer buffer = ByteBuffer.wrap(Base64.getDecoder().decode(line.trim()));
      if (buffer.get() != 0) throw new IllegalStateException("magic byte is not 0");
      int id = buffer.getInt();
      Schema schema = schemas.get(id);
      if (schema == null) {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new IllegalStateException("schema " + id + ": HTTP " + response.statusCode());
        schema = new Schema.Parser().parse(extractSchema(response.body()));
        schemas.put(id, schema);
      }
      byte[] body = new byte[buffer.remaining()];
      buffer.get(body);
      Object record = new GenericDatumReader<Object>(schema, schema, data).read(null, DecoderFactory.get().binaryDecoder(body, null));
      StringBuilder out = new StringBuilder();
      out.append("{\"schema_id\":").append(id).append(",\"record\":");
      json(record, out);
      System.out.println(out.append('}'));
    }
  }

  /** The "schema" string of the registry's answer, unescaped, without a JSON library. */
  private static String extractSchema(String body) {
    int start = body.indexOf("\"schema\"");
    int quote = body.indexOf('"', body.indexOf(':', start) + 1);
    StringBuilder s = new StringBuilder();
    for (int i = quote + 1; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\') {
        char n = body.charAt(++i);
        switch (n) {
          case 'n': s.append('\n'); break;
          case 't': s.append('\t'); break;
          case 'r': s.append('\r'); break;
          case 'u': s.append((char) Integer.parseInt(body.substring(i + 1, i + 5), 16)); i += 4; break;
          default: s.append(n);
        }
      } else if (c == '"') {
        break;
      } else {
        s.append(c);
      }
    }
    return s.toString();
  }

  private static void json(Object value, StringBuilder out) {
    if (value == null) out.append("null");
    else if (value instanceof GenericRecord) {
      GenericRecord record = (GenericRecord) value;
      out.append('{');
      boolean first = true;
      for (Schema.Field field : record.getSchema().getFields()) {
        if (!first) out.append(',');
        first = false;
        string(field.name(), out);
        out.append(':');
        json(record.get(field.name()), out);
      }
      out.append('}');
    } else if (value instanceof List) {
      out.append('[');
      boolean first = true;
      for (Object item : (List<?>) value) {
        if (!first) out.append(',');
        first = false;
        json(item, out);
      }
      out.append(']');
    } else if (value instanceof BigDecimal) string(((BigDecimal) value).toPlainString(), out);
    else if (value instanceof LocalDate) string(value.toString(), out);
    else if (value instanceof Instant) string(MILLIS.format((Instant) value), out);
    else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) out.append(value);
    else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d));
    } else string(value.toString(), out);
  }

  private static void string(String s, StringBuilder out) {
    out.append('"');
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    out.append('"');
  }
}
