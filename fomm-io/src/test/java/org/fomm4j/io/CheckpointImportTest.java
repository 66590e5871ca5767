package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.fomm4j.io.checkpoint.CheckpointException;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.io.weights.CheckpointConverter;
import org.fomm4j.io.weights.WeightFile;
import org.fomm4j.io.weights.WeightFileException;
import org.fomm4j.io.weights.WeightFileWriter;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;
import org.fomm4j.weights.WeightException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoint import and our weight file (the official-checkpoint importer issue). */
class CheckpointImportTest {
    @TempDir
    Path tmp;

    static Path fommCheckpoint(String name) {
        return SharedFixtures.fixture("fomm-vox-small").resolve(name);
    }

    static Path fommConfig() {
        return SharedFixtures.fixture("fomm-vox-small").resolve("config.yaml");
    }

    @ParameterizedTest
    @ValueSource(strings = {"checkpoint.pth.tar", "checkpoint-gpu-saved.pth.tar"})
    void fommCheckpointConvertsToExactlyTheStateDictTensors(String file) throws IOException {
        Path out = tmp.resolve("model.fomm4j");
        CheckpointConverter.Report r = CheckpointConverter.convert(fommCheckpoint(file), fommConfig(), out);
        assertEquals("fomm", r.family());
        Map<String, Tensor> expected = Npy.readNpz(SharedFixtures.fixture("fomm-vox-small").resolve("state_dict.npz"));
        Map<String, Tensor> kept = new LinkedHashMap<>();
        expected.forEach((k, v) -> {
            if (k.startsWith("generator.") || k.startsWith("kp_detector.")) {
                kept.put(k, v);
            }
        });
        try (WeightFile wf = WeightFile.open(out)) {
            StateDict sd = wf.stateDict();
            assertEquals(new TreeSet<>(kept.keySet()), new TreeSet<>(sd.names()), "tensor names");
            for (var e : kept.entrySet()) {
                Tensor t = sd.get(e.getKey());
                assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertArrayEquals(e.getValue().toArray(), t.toArray(), e.getKey());
            }
            assertEquals("fomm", wf.family());
            assertEquals(r.sha256(), wf.metadata().get("source_sha256"));
            assertEquals(CheckpointConverter.sha256(fommCheckpoint(file)), r.sha256());
            assertTrue(wf.metadata().get("config").contains("num_kp: 10"));
            assertTrue(wf.stateDict().get("generator.final.weight").isHeap() == false, "float tensors are mapped, not copied");
        }
        assertNull(r.published(), "a fixture is not a published checkpoint");
        assertFalse(r.networks().contains("discriminator"));
    }

    @Test
    void tpsmmZipCheckpointConvertsToExactlyTheStateDictTensors() throws IOException {
        Path dir = SharedFixtures.fixture("tpsmm-vox-small");
        Path out = tmp.resolve("tpsmm.fomm4j");
        CheckpointConverter.Report r = CheckpointConverter.convert(dir.resolve("checkpoint.pth.tar"), dir.resolve("config.yaml"), out);
        assertEquals("tpsmm", r.family());
        assertTrue(r.networks().containsAll(List.of("kp_detector", "dense_motion_network", "inpainting_network", "avd_network",
                "bg_predictor")), r.networks().toString());
        Map<String, Tensor> expected = Npy.readNpz(dir.resolve("state_dict.npz"));
        try (WeightFile wf = WeightFile.open(out)) {
            StateDict sd = wf.stateDict();
            assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(sd.names()), "tensor names");
            for (var e : expected.entrySet()) {
                assertArrayEquals(e.getValue().toArray(), sd.get(e.getKey()).toArray(), e.getKey());
            }
            assertEquals("tpsmm", wf.family());
        }
    }

    @Test
    void weightFileRoundTripIsExactAlignedAndValidSafetensors() throws IOException {
        Random rnd = new Random(7);
        Map<String, RawTensor> tensors = new LinkedHashMap<>();
        int[][] shapes = {{3}, {10, 35, 7, 7}, {1}, {17, 5}, {}, {64}};
        for (int i = 0; i < shapes.length; i++) {
            int n = 1;
            for (int d : shapes[i]) {
                n *= d;
            }
            boolean ints = i == 4;
            ByteBuffer b = ByteBuffer.allocate(n * (ints ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (int j = 0; j < n; j++) {
                if (ints) {
                    b.putLong(rnd.nextInt(1000));
                } else {
                    b.putFloat((float) rnd.nextGaussian());
                }
            }
            tensors.put("net.t" + i, new RawTensor(ints ? DType.I64 : DType.F32, shapes[i], b.array()));
        }
        Path out = tmp.resolve("rt.fomm4j");
        WeightFileWriter.write(out, Map.of("format", "fomm4j", "family", "fomm", "config", "model_params: {}"), tensors);

        try (WeightFile wf = WeightFile.open(out)) {
            for (var e : tensors.entrySet()) {
                Tensor t = wf.stateDict().get(e.getKey());
                assertArrayEquals(e.getValue().shape(), t.shape());
                assertArrayEquals(e.getValue().toFloats(), t.toArray(), e.getKey());
            }
        }
        // The layout as another safetensors reader sees it: contiguous offsets, 64-byte aligned data.
        byte[] all = Files.readAllBytes(out);
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLen) % 64);
        JsonNode header = new ObjectMapper().readTree(new String(all, 8, (int) headerLen, StandardCharsets.UTF_8));
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("__metadata__")) {
                ranges.add(new long[] {e.getValue().get("data_offsets").get(0).asLong(), e.getValue().get("data_offsets").get(1).asLong()});
                if (!e.getKey().startsWith("__pad__")) {
                    assertEquals(0, e.getValue().get("data_offsets").get(0).asLong() % 64, e.getKey() + " aligned");
                }
            }
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        long at = 0;
        for (long[] r : ranges) {
            assertEquals(at, r[0], "no holes");
            at = r[1];
        }
        assertEquals(all.length - 8 - headerLen, at, "data section fully indexed");
    }

    @Test
    void truncatedCheckpointsAreReportedAsTruncated() throws IOException {
        byte[] full = Files.readAllBytes(fommCheckpoint("checkpoint.pth.tar"));
        for (int len : new int[] {100, 30_000, full.length / 2}) {
            Path cut = tmp.resolve("cut" + len + ".pth.tar");
            Files.write(cut, java.util.Arrays.copyOf(full, len));
            Path out = tmp.resolve("out" + len);
            CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(cut, fommConfig(), out));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void truncatedZipCheckpointIsReportedAsCorrupt() throws IOException {
        Path zip = SharedFixtures.fixture("tpsmm-vox-small").resolve("checkpoint.pth.tar");
        Path cutZip = tmp.resolve("cut.zip.pth.tar");
        try (var in = Files.newInputStream(zip)) {
            Files.write(cutZip, in.readNBytes(5_000_000));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(cutZip));
        assertTrue(e.getMessage().contains("corrupt or truncated zip"), e.getMessage());
    }

    @Test
    void corruptZipEntryIsReported() throws IOException {
        Path zip = tmp.resolve("bad.pth.tar");
        // A valid archive whose data.pkl is garbage.
        try (var zos = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            zos.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            zos.write(new byte[] {(byte) 0x80, 2, (byte) 0xff, (byte) 0xfe, 0, 1});
            zos.closeEntry();
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(zip));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void wrongMagicIsReported() throws IOException {
        Path f = tmp.resolve("image.png");
        Files.write(f, "\u0089PNG not a checkpoint".getBytes(StandardCharsets.ISO_8859_1));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(f));
        assertTrue(e.getMessage().contains("not a PyTorch checkpoint"), e.getMessage());
        Path missing = tmp.resolve("missing.pth.tar");
        CheckpointException e2 = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(missing));
        assertTrue(e2.getMessage().contains("does not exist"), e2.getMessage());
    }

    @Test
    void configThatDoesNotMatchTheWeightsNamesTheTensors() {
        Path official = SharedFixtures.testdata().resolve("reference/configs/fomm/vox-256.yaml");
        Path out = tmp.resolve("x.fomm4j");
        WeightException e = assertThrows(WeightException.class,
                () -> CheckpointConverter.convert(fommCheckpoint("checkpoint.pth.tar"), official, out));
        assertTrue(e.getMessage().contains("tensor kp_detector.predictor.encoder.down_blocks.0.conv.weight has shape [16, 3, 3, 3]"
                        + " but the config expects [64, 3, 3, 3]"),
                e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void unwritableOutputLeavesNothingBehind() throws IOException {
        Path blocker = tmp.resolve("file");
        Files.writeString(blocker, "x");
        Path out = blocker.resolve("model.fomm4j");
        WeightFileException e = assertThrows(WeightFileException.class,
                () -> CheckpointConverter.convert(fommCheckpoint("checkpoint.pth.tar"), fommConfig(), out));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        Path dirAsOutput = tmp.resolve("adir");
        Files.createDirectory(dirAsOutput);
        WeightFileException e2 = assertThrows(WeightFileException.class,
                () -> CheckpointConverter.convert(fommCheckpoint("checkpoint.pth.tar"), fommConfig(), dirAsOutput));
        assertTrue(e2.getMessage().contains("is a directory"), e2.getMessage());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("adir", "file"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file left behind");
        }
    }

    @Test
    void truncatedOrForeignWeightFilesAreRejected() throws IOException {
        Path out = tmp.resolve("m.fomm4j");
        CheckpointConverter.convert(fommCheckpoint("checkpoint.pth.tar"), fommConfig(), out);
        byte[] all = Files.readAllBytes(out);
        Path cut = tmp.resolve("cut.fomm4j");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 1000));
        WeightFileException e = assertThrows(WeightFileException.class, () -> WeightFile.open(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        WeightFileException e2 = assertThrows(WeightFileException.class,
                () -> WeightFile.open(fommCheckpoint("checkpoint.pth.tar")));
        assertTrue(e2.getMessage().contains("not a fomm4j weight file"), e2.getMessage());
    }
}
