package org.fomm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the official YAML configs (Jackson YAML) and typed fields out of them with clear errors. */
public final class YamlConfig {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private YamlConfig() {
    }

    /** @throws ConfigException if the file cannot be read or is not YAML */
    public static JsonNode read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            JsonNode root = YAML.readTree(in);
            if (root == null || !root.isObject()) {
                throw new ConfigException("config " + file + " is empty or not a YAML mapping");
            }
            return root;
        } catch (IOException e) {
            throw new ConfigException("cannot read config " + file + ": " + e.getMessage(), e);
        }
    }

    /** @throws ConfigException if the text is not a YAML mapping */
    public static JsonNode parse(String text) {
        try {
            JsonNode root = YAML.readTree(text);
            if (root == null || !root.isObject()) {
                throw new ConfigException("config is empty or not a YAML mapping");
            }
            return root;
        } catch (IOException e) {
            throw new ConfigException("config is not valid YAML: " + e.getMessage(), e);
        }
    }

    static JsonNode object(JsonNode parent, String path, String key) {
        JsonNode n = parent.get(key);
        if (n == null || !n.isObject()) {
            throw new ConfigException("config: missing section " + path + key);
        }
        return n;
    }

    static int intValue(JsonNode parent, String path, String key) {
        JsonNode n = parent.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new ConfigException("config: " + path + key + " must be an integer" + (n == null ? " (missing)" : ", got " + n));
        }
        return n.intValue();
    }

    static double doubleValue(JsonNode parent, String path, String key, Double dflt) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            if (dflt == null) {
                throw new ConfigException("config: missing number " + path + key);
            }
            return dflt;
        }
        if (!n.isNumber()) {
            throw new ConfigException("config: " + path + key + " must be a number, got " + n);
        }
        return n.doubleValue();
    }

    static boolean boolValue(JsonNode parent, String path, String key, boolean dflt) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new ConfigException("config: " + path + key + " must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    /** Largest frame side a config may ask for (the official models use 256 and 384). */
    static final int MAX_FRAME = 2048;

    static void atMost(String what, int v, int max) {
        if (v > max) {
            throw new ConfigException("config: " + what + " is " + v + "; fomm4j runs frames of at most " + max
                    + " pixels a side (the official models use 256 or 384)");
        }
    }

    static void positive(String what, int v) {
        if (v <= 0) {
            throw new ConfigException("config: " + what + " must be positive, got " + v);
        }
    }
}
