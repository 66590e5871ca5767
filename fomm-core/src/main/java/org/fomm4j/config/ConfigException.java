package org.fomm4j.config;

/** A model config that cannot be read or does not describe a model this library can build. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
