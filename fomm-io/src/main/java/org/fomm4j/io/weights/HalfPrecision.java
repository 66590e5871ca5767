package org.fomm4j.io.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Rewrites a model file with its convolution and linear weights in IEEE float16 (half the bytes of the
 * file; {@link WeightFile} widens them back to float32 at open, so inference and training still compute
 * in float32). Only float tensors of rank 2 or more are stored in half precision, and only when every
 * value fits float16's range ({@code |v| <= 65504}); biases, BatchNorm parameters and running statistics
 * (rank 1, a small part of the bytes, and variances can be tiny) and {@code num_batches_tracked} (int64)
 * stay as they were. Rounding is to nearest even ({@link Float#floatToFloat16}): a relative error of at
 * most 2^-11 on normal values. The halved file is a different model, close to the original: evaluate it
 * before shipping it.
 */
public final class HalfPrecision {
    /** Largest finite float16. */
    static final float MAX_HALF = 65504f;

    private HalfPrecision() {
    }

    /**
     * What {@link #compact} did.
     *
     * @param halved tensors now stored as float16
     * @param kept tensors left as float32 or int64
     * @param maxRelativeError the largest {@code max|v - half(v)| / max|v|} over the halved tensors
     */
    public record Report(Path output, int halved, int kept, long bytesBefore, long bytesAfter, double maxRelativeError) {
    }

    /**
     * Writes {@code output} (atomically; it may be {@code input}) as {@code input} with its weights in
     * float16, and the metadata key {@code weights_dtype = f16}.
     *
     * @throws WeightFileException if {@code input} is missing or not a model file, or is a training checkpoint (it
     *     holds optimizer moments; compact the {@code model.fomm4j} written beside it)
     */
    public static Report compact(Path input, Path output) throws IOException {
        long before;
        Map<String, RawTensor> out = new LinkedHashMap<>();
        Map<String, String> metadata;
        int halved = 0;
        double maxRel = 0;
        try (WeightFile wf = WeightFile.open(input)) {
            before = Files.size(input);
            metadata = new LinkedHashMap<>(wf.metadata());
            StateDict sd = wf.stateDict();
            for (String name : sd.names()) {
                if (name.startsWith("optimizer.")) {
                    throw new WeightFileException("model file " + input + " is a training checkpoint (it holds optimizer state);"
                            + " compact the model.fomm4j written beside it");
                }
                Tensor t = sd.get(name);
                String dtype = wf.dtype(name);
                float[] v = t.toArray();
                if (dtype.equals("I64")) {
                    out.put(name, RawTensor.i64(t.shape(), v));
                } else if (t.shape().length >= 2 && fitsHalf(v)) {
                    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                    float max = 0, err = 0;
                    for (float x : v) {
                        short h = Float.floatToFloat16(x);
                        b.putShort(h);
                        max = Math.max(max, Math.abs(x));
                        err = Math.max(err, Math.abs(x - Float.float16ToFloat(h)));
                    }
                    out.put(name, new RawTensor(DType.F16, t.shape(), b.array()));
                    halved++;
                    if (max > 0) {
                        maxRel = Math.max(maxRel, err / (double) max);
                    }
                } else {
                    out.put(name, RawTensor.f32(t.shape(), v));
                }
            }
        }
        metadata.put("weights_dtype", "f16");
        WeightFileWriter.write(output, metadata, out);
        return new Report(output, halved, out.size() - halved, before, Files.size(output), maxRel);
    }

    static boolean fitsHalf(float[] v) {
        for (float x : v) {
            if (!(Math.abs(x) <= MAX_HALF)) {
                return false;
            }
        }
        return true;
    }
}
