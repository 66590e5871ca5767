package org.fomm4j.weights;

/** A state dict does not fit the model built from the config: a tensor is missing, unexpected or mis-shaped. */
public class WeightException extends RuntimeException {
    public WeightException(String message) {
        super(message);
    }
}
