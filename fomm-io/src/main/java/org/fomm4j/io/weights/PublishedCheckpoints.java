package org.fomm4j.io.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * The published checkpoints of both reference implementations (file name, config, size, sha256),
 * bundled as a resource so a conversion can say which one it was given.
 */
public final class PublishedCheckpoints {
    /** A published file: family ({@code fomm}/{@code tpsmm}), file name, its official config name. */
    public record Entry(String family, String file, String config, long size, String sha256) {
    }

    private static final JsonNode TABLE = load();

    private PublishedCheckpoints() {
    }

    private static JsonNode load() {
        try (InputStream in = PublishedCheckpoints.class.getResourceAsStream("/org/fomm4j/io/official-checkpoints.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The published checkpoint with this sha256 (lower-case hex), if any. */
    public static Optional<Entry> bySha256(String sha256) {
        for (String family : new String[] {"fomm", "tpsmm"}) {
            JsonNode files = TABLE.path(family).path("files");
            for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().path("sha256").asText().equalsIgnoreCase(sha256)) {
                    return Optional.of(new Entry(family, e.getKey(), e.getValue().path("config").asText(),
                            e.getValue().path("size").asLong(), e.getValue().path("sha256").asText()));
                }
            }
        }
        return Optional.empty();
    }
}
