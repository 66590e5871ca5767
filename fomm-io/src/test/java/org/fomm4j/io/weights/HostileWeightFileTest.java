package org.fomm4j.io.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/** Our own weight file, crafted: offsets numeric, in order, non-overlapping; values finite. */
class HostileWeightFileTest {
    @TempDir
    Path tmp;

    private Path file(String tensorsJson, float... data) throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"fomm4j\",\"family\":\"fomm\"}," + tensorsJson + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        ByteBuffer d = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            d.putFloat(f);
        }
        out.writeBytes(d.array());
        return Files.write(tmp.resolve("m.fomm4j"), out.toByteArray());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}|overlap",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}|are not two integers",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}|are not two integers",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}|out of order",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}|two tensors start at byte 0",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}|shape of a",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536],\"data_offsets\":[0,8]}|do not match its shape",
        "\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,65536],\"data_offsets\":[0,8]}|is too large",
    })
    void corruptHeadersAreRefusedNamingTheProblem(String tensors, String expected) throws IOException {
        Path f = file(tensors, 1f, 2f, 3f, 4f);
        WeightFileException e = assertThrows(WeightFileException.class, () -> WeightFile.open(f));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"NaN", "Infinity", "-Infinity"})
    void nonFiniteWeightsNameTheTensor(float bad) throws IOException {
        Path f = file("\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"generator.final.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}", 1f, 2f, 3f, bad);
        WeightFileException e = assertThrows(WeightFileException.class, () -> WeightFile.open(f));
        assertTrue(e.getMessage().contains("tensor generator.final.weight has 1 non-finite values"), e.getMessage());
    }
}
