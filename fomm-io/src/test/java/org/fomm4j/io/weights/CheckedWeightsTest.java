package org.fomm4j.io.weights;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.io.SharedFixtures;
import org.fomm4j.io.checkpoint.CheckpointException;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weights are what the model expects: float storages, finite values, views no larger than their storage. */
class CheckedWeightsTest {
    @TempDir
    Path tmp;

    private static RawTensor floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return new RawTensor(DType.F32, new int[] {v.length}, b.array());
    }

    @Test
    void integerStoragesAndNonFiniteValuesNameTheTensor() {
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("generator.a.weight", new int[] {2});
        expected.put("generator.b.weight", new int[] {2});
        expected.put("generator.bn.num_batches_tracked", new int[] {});
        Map<String, RawTensor> actual = new LinkedHashMap<>();
        actual.put("generator.a.weight", new RawTensor(DType.I64, new int[] {2}, new byte[16]));
        actual.put("generator.b.weight", floats(1f, Float.NaN));
        actual.put("generator.bn.num_batches_tracked", new RawTensor(DType.I64, new int[] {}, new byte[8]));
        WeightException e = assertThrows(WeightException.class,
                () -> CheckpointConverter.check(actual, expected, Path.of("c.pth.tar"), Path.of("c.yaml")));
        assertTrue(e.getMessage().contains("tensor generator.a.weight is stored as integers or booleans but the model expects float weights"),
                e.getMessage());
        assertTrue(e.getMessage().contains("tensor generator.b.weight has 1 non-finite values"), e.getMessage());
        assertFalse(e.getMessage().contains("num_batches_tracked"), e.getMessage());
    }

    @Test
    void aNaNInsideARealCheckpointIsAnErrorAndNothingIsWritten() throws IOException {
        Path dir = SharedFixtures.fixture("fomm-vox-small");
        byte[] bytes = Files.readAllBytes(dir.resolve("checkpoint.pth.tar"));
        Tensor w = Npy.readNpz(dir.resolve("state_dict.npz")).get("generator.final.weight");
        ByteBuffer pattern = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) {
            pattern.putFloat(w.get(i));
        }
        int at = indexOf(bytes, pattern.array());
        assertTrue(at > 0, "generator.final.weight's bytes are in the legacy checkpoint");
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(at + 12, Float.POSITIVE_INFINITY);
        Path bad = Files.write(tmp.resolve("bad.pth.tar"), bytes);
        Path out = tmp.resolve("m.fomm4j");
        WeightException e = assertThrows(WeightException.class, () -> CheckpointConverter.convert(bad, dir.resolve("config.yaml"), out));
        assertTrue(e.getMessage().contains("tensor generator.final.weight has 1 non-finite values"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aViewClaimingMoreElementsThanItsStorageIsRefusedWithoutAllocatingThem() throws IOException {
        Path f = tmp.resolve("stride0.pth.tar");
        try (var in = CheckedWeightsTest.class.getResourceAsStream("/org/fomm4j/io/stride0.pth.tar")) {
            Files.write(f, in.readAllBytes());
        }
        TorchCheckpoint ckpt = TorchCheckpoint.open(f);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        CheckpointException e = assertThrows(CheckpointException.class, () -> ckpt.readNetwork("generator"));
        long used = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(e.getMessage().contains("declares 400000000 elements but its storage holds 1"), e.getMessage());
        assertTrue(used < 8 << 20, "allocated " + used + " bytes");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
