package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.fomm4j.io.checkpoint.CheckpointException;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hand-made malicious pickles, in both container formats: each must be refused with an error that
 * names the global, and nothing may run (a marker file the payload would create stays absent).
 */
class MaliciousPickleTest {
    @TempDir
    Path tmp;

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A protocol-2 pickle calling {@code module.name(arg)} through the given opcode style. */
    static byte[] payload(String style, String module, String name, String arg) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {(byte) 0x80, 2});
        switch (style) {
            case "GLOBAL" -> {
                b.write(ascii("c" + module + "\n" + name + "\n"));
                b.write(unicode(arg));
                b.write(new byte[] {(byte) 0x85, 'R', '.'});
            }
            case "STACK_GLOBAL" -> {
                b.write(unicode(module));
                b.write(unicode(name));
                b.write(new byte[] {(byte) 0x93});
                b.write(unicode(arg));
                b.write(new byte[] {(byte) 0x85, 'R', '.'});
            }
            case "INST" -> {
                b.write('(');
                b.write(unicode(arg));
                b.write(ascii("i" + module + "\n" + name + "\n."));
            }
            case "NESTED" -> {
                // {'generator': OrderedDict(...), 'evil': os.system('...')}: the bad global sits inside a checkpoint-like dict.
                b.write(ascii("}"));
                b.write(unicode("generator"));
                b.write(ascii("ccollections\nOrderedDict\n)R"));
                b.write('s');
                b.write(unicode("evil"));
                b.write(ascii("c" + module + "\n" + name + "\n"));
                b.write(unicode(arg));
                b.write(new byte[] {(byte) 0x85, 'R', 's', '.'});
            }
            default -> throw new IllegalArgumentException(style);
        }
        return b.toByteArray();
    }

    static byte[] unicode(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[5 + u.length];
        out[0] = 'X';
        out[1] = (byte) u.length;
        out[2] = (byte) (u.length >> 8);
        System.arraycopy(u, 0, out, 5, u.length);
        return out;
    }

    /** The legacy torch.save preamble: magic number, protocol 1001, sys info. */
    static byte[] legacyPreamble() {
        byte[] magic = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8,
                0x50, 0x19, '.'};
        byte[] protocol = {(byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.'};
        byte[] sysInfo = {(byte) 0x80, 2, '}', '.'};
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(magic);
        b.writeBytes(protocol);
        b.writeBytes(sysInfo);
        return b.toByteArray();
    }

    @ParameterizedTest
    @CsvSource({
        "GLOBAL, os, system",
        "GLOBAL, posix, system",
        "GLOBAL, builtins, eval",
        "GLOBAL, builtins, exec",
        "GLOBAL, subprocess, Popen",
        "STACK_GLOBAL, builtins, eval",
        "STACK_GLOBAL, os, system",
        "INST, subprocess, check_output",
        "NESTED, os, system",
        "GLOBAL, torch, load",
        "GLOBAL, numpy.core.multiarray, _reconstruct",
    })
    void refusedInBothContainers(String style, String module, String name) throws IOException {
        Path marker = tmp.resolve("pwned");
        byte[] evil = payload(style, module, name, "touch " + marker);

        Path legacy = tmp.resolve("legacy.pth.tar");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(legacyPreamble());
        b.writeBytes(evil);
        Files.write(legacy, b.toByteArray());
        CheckpointException e1 = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(legacy));
        assertTrue(e1.getMessage().contains(module + "." + name), e1.getMessage());
        assertTrue(e1.getMessage().contains("unsafe"), e1.getMessage());

        Path zip = tmp.resolve("zip.pth.tar");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(evil);
            z.closeEntry();
        }
        CheckpointException e2 = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(zip));
        assertTrue(e2.getMessage().contains(module + "." + name), e2.getMessage());
        assertTrue(Files.notExists(marker), "nothing from the file ran");
    }
}
