package org.fomm4j.io.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.fomm4j.io.SharedFixtures;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.fomm.Keypoints;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fomm compact}: which tensors become float16, their values, what is refused, and the model it gives. */
class HalfPrecisionTest {
    @TempDir
    Path tmp;

    private static final Path VOX_SMALL = SharedFixtures.testdata().resolveSibling("weights/fomm-vox-small.fomm4j");

    @Test
    void weightsAreRoundedToFloat16AndEverythingElseIsKeptBitForBit() throws IOException {
        Path out = tmp.resolve("half.fomm4j");
        HalfPrecision.Report r = HalfPrecision.compact(VOX_SMALL, out);
        try (WeightFile a = WeightFile.open(VOX_SMALL); WeightFile b = WeightFile.open(out)) {
            StateDict sa = a.stateDict(), sb = b.stateDict();
            assertEquals(sa.names(), sb.names());
            int halved = 0;
            for (String name : sa.names()) {
                float[] va = sa.get(name).toArray(), vb = sb.get(name).toArray();
                assertEquals(java.util.Arrays.toString(sa.get(name).shape()), java.util.Arrays.toString(sb.get(name).shape()), name);
                boolean weight = sa.get(name).shape().length >= 2;
                assertEquals(weight ? "F16" : a.dtype(name), b.dtype(name), name);
                for (int i = 0; i < va.length; i++) {
                    // Rounded to nearest: exactly what the JDK's conversion gives, within 2^-11 relative.
                    float expected = weight ? Float.float16ToFloat(Float.floatToFloat16(va[i])) : va[i];
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(vb[i]), name + "[" + i + "]");
                    assertTrue(Math.abs(va[i] - vb[i]) <= Math.max(Math.abs(va[i]) * 0x1p-11f, 0x1p-25f), name + "[" + i + "]");
                }
                halved += weight ? 1 : 0;
            }
            assertEquals(halved, r.halved());
            assertEquals(sa.size() - halved, r.kept());
            assertTrue(halved > 0 && r.kept() > 0, r.toString());
            Map<String, String> meta = new LinkedHashMap<>(b.metadata());
            assertEquals("f16", meta.remove("weights_dtype"));
            assertEquals(a.metadata(), meta, "the config and the rest of the metadata are carried over");
        }
        long before = Files.size(VOX_SMALL), after = Files.size(out);
        assertEquals(before, r.bytesBefore());
        assertEquals(after, r.bytesAfter());
        assertTrue(after < 0.55 * before, before + " -> " + after);
        assertTrue(r.maxRelativeError() > 0 && r.maxRelativeError() <= 0x1p-11, "" + r.maxRelativeError());
    }

    @Test
    void theCompactedModelLoadsAndDetectsNearlyTheSameKeypoints() throws IOException {
        Path out = tmp.resolve("half.fomm4j");
        HalfPrecision.compact(VOX_SMALL, out);
        SplittableRandom rnd = new SplittableRandom(7);
        try (FommModel full = ModelFiles.loadFomm(VOX_SMALL); FommModel half = ModelFiles.loadFomm(out)) {
            int h = full.config().frameHeight(), w = full.config().frameWidth();
            float[] image = new float[3 * h * w];
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) rnd.nextDouble();
            }
            Tensor frame = Tensor.of(image, 1, 3, h, w);
            Keypoints a = full.kpDetector().detect(frame), b = half.kpDetector().detect(frame);
            float[] va = a.value().toArray(), vb = b.value().toArray();
            double max = 0;
            for (int i = 0; i < va.length; i++) {
                max = Math.max(max, Math.abs(va[i] - vb[i]));
            }
            // Keypoints are in [-1, 1]: float16 weights move them by well under a pixel.
            assertTrue(max > 0, "the weights did change");
            assertTrue(max < 1e-3, "keypoints moved by " + max);
        }
    }

    @Test
    void valuesBeyondFloat16sRangeKeepTheirTensorInFloat32() throws IOException {
        Path in = tmp.resolve("in.fomm4j");
        Map<String, RawTensor> t = new LinkedHashMap<>();
        t.put("generator.a.weight", f32(new int[] {2, 2}, 1f, 2f, 3f, 70000f));
        t.put("generator.b.weight", f32(new int[] {2, 2}, 1f, -2f, 0.1f, 65504f));
        WeightFileWriter.write(in, Map.of("format", "fomm4j", "family", "fomm"), t);
        Path out = tmp.resolve("out.fomm4j");
        HalfPrecision.Report r = HalfPrecision.compact(in, out);
        assertEquals(1, r.halved());
        try (WeightFile w = WeightFile.open(out)) {
            assertEquals("F32", w.dtype("generator.a.weight"));
            assertEquals(70000f, w.stateDict().get("generator.a.weight").toArray()[3]);
            assertEquals("F16", w.dtype("generator.b.weight"));
            assertEquals(65504f, w.stateDict().get("generator.b.weight").toArray()[3]);
        }
    }

    @Test
    void aTrainingCheckpointOrAMissingFileIsRefusedAndNothingIsWritten() throws IOException {
        Path in = tmp.resolve("checkpoint.fomm4j");
        Map<String, RawTensor> t = new LinkedHashMap<>();
        t.put("generator.a.weight", f32(new int[] {2, 2}, 1f, 2f, 3f, 4f));
        t.put("optimizer.generator.a.weight.m", f32(new int[] {4}, 0f, 0f, 0f, 0f));
        WeightFileWriter.write(in, Map.of("format", "fomm4j", "family", "fomm"), t);
        Path out = tmp.resolve("out.fomm4j");
        WeightFileException e = assertThrows(WeightFileException.class, () -> HalfPrecision.compact(in, out));
        assertTrue(e.getMessage().contains("is a training checkpoint"), e.getMessage());
        assertFalse(Files.exists(out));
        e = assertThrows(WeightFileException.class, () -> HalfPrecision.compact(tmp.resolve("missing.fomm4j"), out));
        assertTrue(e.getMessage().contains("missing.fomm4j does not exist"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void nonFiniteOrMisSizedFloat16TensorsAreRefusedOnOpen() throws IOException {
        Path nan = tmp.resolve("nan.fomm4j");
        WeightFileWriter.write(nan, Map.of("format", "fomm4j", "family", "fomm"),
                Map.of("generator.a.weight", f16(new int[] {1, 3}, (short) 0x3c00, (short) 0x7e00, (short) 0x7c00)));
        WeightFileException e = assertThrows(WeightFileException.class, () -> WeightFile.open(nan));
        assertTrue(e.getMessage().contains("tensor generator.a.weight has 2 non-finite values"), e.getMessage());
        Path ok = tmp.resolve("ok.fomm4j");
        WeightFileWriter.write(ok, Map.of("format", "fomm4j", "family", "fomm"),
                Map.of("generator.a.weight", f16(new int[] {1, 2}, (short) 0x3c00, (short) 0xc000)));
        try (WeightFile w = WeightFile.open(ok)) {
            assertEquals(1f, w.stateDict().get("generator.a.weight").toArray()[0]);
            assertEquals(-2f, w.stateDict().get("generator.a.weight").toArray()[1]);
        }
        // A header claiming 4 half values over the 4 bytes of 2.
        byte[] b = Files.readAllBytes(ok);
        String s = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\"shape\":[1,2]", "\"shape\":[2,2]");
        Path lying = Files.write(tmp.resolve("lying.fomm4j"), s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        e = assertThrows(WeightFileException.class, () -> WeightFile.open(lying));
        assertTrue(e.getMessage().contains("do not match its shape"), e.getMessage());
    }

    private static RawTensor f32(int[] shape, float... v) {
        return RawTensor.f32(shape, v);
    }

    private static RawTensor f16(int[] shape, short... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short x : v) {
            b.putShort(x);
        }
        return new RawTensor(DType.F16, shape, b.array());
    }
}
