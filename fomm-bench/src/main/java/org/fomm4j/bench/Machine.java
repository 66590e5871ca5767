package org.fomm4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.incubator.vector.FloatVector;

/** One line naming the machine: CPU model, SIMD ISA, cores, JVM and the Vector API's preferred width. */
final class Machine {
    private Machine() {
    }

    static String describe() {
        String model = "unknown CPU";
        String flags = "";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.equals("unknown CPU")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    flags = " " + line.substring(line.indexOf(':') + 1).trim() + " ";
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the JVM's view below still says something
        }
        StringBuilder isa = new StringBuilder();
        for (String f : List.of("avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "avx2", "fma", "asimd", "sve")) {
            if (flags.contains(" " + f + " ")) {
                isa.append(isa.isEmpty() ? "" : " ").append(f);
            }
        }
        return String.format("machine: %s; ISA: %s; %d hardware threads; %s %s; Vector API preferred width %d bits",
                model, isa.isEmpty() ? "unknown" : isa, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }
}
