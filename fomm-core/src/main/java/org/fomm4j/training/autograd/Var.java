package org.fomm4j.training.autograd;

import java.util.Arrays;
import org.fomm4j.tensor.FrameArena;

/**
 * A node of the training graph: a dense float32 value in row-major order (NCHW for feature maps,
 * {@code [N, K, 2]} for keypoints as {@code (x, y)}, {@code [N, H, W, 2]} for sampling grids) and, when it
 * {@link #requiresGrad()}, the gradient of the scalar the {@link Tape} is run back from, allocated on first use.
 *
 * <p>Parameters are {@code Var}s that live across steps (their gradient is zeroed by the optimizer);
 * activations are created by the operations of this package and die with their tape.
 */
public final class Var {
    private final int[] shape;
    private final float[] value;
    private final boolean requiresGrad;
    /** An activation of one step (made by {@link Tape#output}): its gradient may come from the step's arena. */
    private final boolean activation;
    private float[] grad;

    /**
     * @throws IllegalArgumentException if {@code value.length} is not the product of {@code shape}
     */
    public Var(float[] value, boolean requiresGrad, int... shape) {
        this(value, requiresGrad, false, shape);
    }

    Var(float[] value, boolean requiresGrad, boolean activation, int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != value.length) {
            throw new IllegalArgumentException("value of length " + value.length + " does not fit " + Arrays.toString(shape));
        }
        this.shape = shape.clone();
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.activation = activation;
    }

    /** Data or a fixed buffer: no gradient flows into it. */
    public static Var constant(float[] value, int... shape) {
        return new Var(value, false, shape);
    }

    /** A trainable tensor: gradients accumulate into it. */
    public static Var parameter(float[] value, int... shape) {
        return new Var(value, true, shape);
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}; negative counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return value.length;
    }

    /** The value (no copy; parameters are updated in place by the optimizer). */
    public float[] value() {
        return value;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * The gradient, allocated as zeros on first use. An activation's gradient dies with its step, so it is
     * taken from the step's {@link FrameArena} when the trainer has entered one; a parameter's lives across
     * steps and is always its own array.
     */
    public float[] grad() {
        if (grad == null) {
            grad = activation ? FrameArena.zeros(value.length) : new float[value.length];
        }
        return grad;
    }

    /** Whether a gradient has been written (a node the loss does not depend on has none). */
    public boolean hasGrad() {
        return grad != null;
    }

    /** The gradient if one was written, else {@code null}. */
    float[] gradOrNull() {
        return grad;
    }

    public void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    /** The only element of a one-element value. */
    public float item() {
        if (value.length != 1) {
            throw new IllegalStateException("item() of a tensor of shape " + Arrays.toString(shape));
        }
        return value[0];
    }

    /** Throws unless the shape is {@code expected}. */
    public void requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(what + ": expected shape " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(shape));
        }
    }

    @Override
    public String toString() {
        return "Var" + Arrays.toString(shape) + (requiresGrad ? " (grad)" : "");
    }
}
