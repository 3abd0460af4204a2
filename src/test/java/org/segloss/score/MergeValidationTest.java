package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code merge} checks every field of a stats file and refuses sums that overflow, naming the field. */
class MergeValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private ObjectNode valid;

    @BeforeEach
    void scoreOnePair() throws Exception {
        Path preds = Files.createDirectories(dir.resolve("p"));
        Path targets = Files.createDirectories(dir.resolve("t"));
        Files.write(preds.resolve("a.png"), PngCheckTest.small(0, 0));
        Files.write(targets.resolve("a.png"), PngCheckTest.small(0, 0));
        Path stats = dir.resolve("s.json");
        CommandRunner.score("--pred", preds.toString(), "--target", targets.toString(), "--save-stats", stats.toString(),
                "--quiet").assertOk();
        valid = (ObjectNode) JSON.readTree(stats.toFile());
    }

    static Stream<Arguments> badFields() {
        return Stream.of(
                Arguments.of("classes 0", (Consumer<ObjectNode>) o -> o.put("classes", 0), List.of("classes", "[1, 65536]", "0")),
                Arguments.of("classes above the limit", (Consumer<ObjectNode>) o -> o.put("classes", 1 << 20), List.of("classes", "1048576")),
                Arguments.of("classes as text", (Consumer<ObjectNode>) o -> o.put("classes", "four"), List.of("classes", "four")),
                Arguments.of("negative worst_k", (Consumer<ObjectNode>) o -> o.put("worst_k", -1), List.of("worst_k", "-1")),
                Arguments.of("worst_k beyond int", (Consumer<ObjectNode>) o -> o.put("worst_k", 1L << 40), List.of("worst_k", "1099511627776")),
                Arguments.of("threshold as text", (Consumer<ObjectNode>) o -> o.put("threshold", "half"), List.of("threshold", "half")),
                Arguments.of("threshold above 1", (Consumer<ObjectNode>) o -> o.put("threshold", 2.0), List.of("threshold", "2.0")),
                Arguments.of("from_logits as a number", (Consumer<ObjectNode>) o -> o.put("from_logits", 1), List.of("from_logits", "1")),
                Arguments.of("classes_inferred missing", (Consumer<ObjectNode>) o -> o.remove("classes_inferred"), List.of("classes_inferred", "null")),
                Arguments.of("ignore_index as text", (Consumer<ObjectNode>) o -> o.put("ignore_index", "255"), List.of("ignore_index", "255")),
                Arguments.of("negative images", (Consumer<ObjectNode>) o -> o.put("images", -3), List.of("images", "-3")),
                Arguments.of("a negative count", (Consumer<ObjectNode>) o -> ((com.fasterxml.jackson.databind.node.ArrayNode) o.get("tp")).set(0, -1),
                        List.of("tp[0]", "-1")),
                Arguments.of("skipped as an object", (Consumer<ObjectNode>) o -> o.putObject("skipped"), List.of("skipped", "array")),
                Arguments.of("a skipped entry without reason", (Consumer<ObjectNode>) o -> o.putArray("skipped").addObject().put("file", "x"),
                        List.of("skipped[0]", "reason")),
                Arguments.of("worst entry that is a number", (Consumer<ObjectNode>) o -> o.putArray("worst").add(7), List.of("worst[0]", "7")));
    }

    @ParameterizedTest(name = "{0} is refused naming the field")
    @MethodSource("badFields")
    void aBadFieldIsRefusedNamingTheFieldAndTheValue(String name, Consumer<ObjectNode> change, List<String> mustName)
            throws Exception {
        ObjectNode bad = valid.deepCopy();
        change.accept(bad);
        Path f = Files.writeString(dir.resolve("bad.json"), JSON.writeValueAsString(bad));
        CommandRunner.merge(f.toString()).assertUsageError(mustName.toArray(new String[0]));
    }

    @Test
    void countsThatOverflowWhenMergedAreRefusedNamingTheField() throws Exception {
        ObjectNode big = valid.deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) big.get("tn")).set(0, Long.MAX_VALUE - 1);
        Path a = Files.writeString(dir.resolve("a.json"), JSON.writeValueAsString(big));
        Path b = Files.writeString(dir.resolve("b.json"), JSON.writeValueAsString(big));
        CommandRunner.merge(a.toString(), b.toString()).assertUsageError("b.json", "tn of class 0", "overflows 64 bits");
        ObjectNode many = valid.deepCopy();
        many.put("images", Long.MAX_VALUE);
        Path c = Files.writeString(dir.resolve("c.json"), JSON.writeValueAsString(many));
        CommandRunner.merge(c.toString(), c.toString()).assertUsageError("images", "overflows 64 bits");
    }

    @Test
    void theValidFileMergesWithItself() throws Exception {
        Path f = Files.writeString(dir.resolve("ok.json"), JSON.writeValueAsString(valid));
        JsonNode o = JSON.readTree(CommandRunner.merge(f.toString(), f.toString(), "--format", "json").assertOk().out);
        assertEquals(2, o.get("images").asInt());
    }
}
