// Creates ACL bindings (allow, any host) with Kafka's own Admin client, as the kafka-acls tool would: that tool's
// jar is not among the broker's, and librdkafka 2.0.2 cannot name transactional ids. Run as a single-file program
// by kafka_sasl_acls.py:
//   java -cp <broker jars> KafkaAcls.java CLIENT.PROPERTIES User:NAME:OPERATION:TYPE:literal|prefixed:RESOURCE ...
// TYPE: topic, group, transactional-id, cluster. Exits 1 saying which binding failed.
import java.io.FileReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
  public static void main(String[] args) throws Exception {
    Properties client = new Properties();
    try (FileReader in = new FileReader(args[0])) {
      client.load(in);
    }
    List<AclBinding> bindings = new ArrayList<>();
    for (int i = 1; i < args.length; ++i) {
      String[] f = args[i].split(":", 6);
      if (f.length != 6) throw new IllegalArgumentException(args[i] + ": not User:NAME:OPERATION:TYPE:PATTERN:RESOURCE");
      ResourceType type = ResourceType.fromString(f[3].replace("-", "_").toUpperCase());
      ResourcePattern resource = new ResourcePattern(type, f[5], PatternType.fromString(f[4].toUpperCase()));
      AccessControlEntry entry = new AccessControlEntry(f[0] + ":" + f[1], "*",
          AclOperation.fromString(f[2].replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase()), AclPermissionType.ALLOW);
      bindings.add(new AclBinding(resource, entry));
    }
    try (Admin admin = Admin.create(client)) {
      admin.createAcls(bindings).all().get();
    }
  }
}
