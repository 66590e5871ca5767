package org.fomm4j.cli;

import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.kernels.Parallel;
import picocli.CommandLine;

/**
 * {@code fomm --version}: what is installed and what it will run on: the fomm4j version (from the jar's
 * manifest), the Java runtime, the kernels chosen for this JVM (Vector API width or the scalar
 * fallback) and the threads, and the supported model families and media.
 */
final class VersionInfo implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getPackage().getImplementationVersion();
        Kernels k = KernelProvider.get();
        return new String[] {
            "fomm4j " + (version == null ? "(development build)" : version),
            "Java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                    + " (" + System.getProperty("java.vendor") + "), " + System.getProperty("os.arch"),
            "kernels: " + k.name() + " on " + Parallel.threads() + " threads"
                    + (k.name().startsWith("panama") ? " (JDK Vector API)" : " (scalar reference: see the warning above)"),
            "models: FOMM and TPSMM (our .fomm4j files, or published .pth.tar checkpoints with their YAML config)",
            "media: PNG/JPEG/GIF images; MP4 (H.264, AAC passed through), GIF and PNG-folder videos",
        };
    }
}
