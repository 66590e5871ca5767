package org.fomm4j.kernels;

import java.lang.reflect.Constructor;

/**
 * Chooses the {@link Kernels} implementation once per JVM and logs the choice, as Lucene's
 * {@code VectorizationProvider} does.
 *
 * <p>The Vector API implementation is used when the {@code jdk.incubator.vector} module is in the boot
 * layer (run with {@code --add-modules jdk.incubator.vector}) and the JVM is HotSpot with C2, which
 * compiles vector operations to SIMD instructions; without C2 (the interpreter, {@code -Xint}, or
 * {@code -XX:TieredStopAtLevel} below 4) the Vector API runs boxed and far slower than scalar code.
 * Otherwise the scalar reference is used, with one warning naming what to change.
 * {@code -Dfomm4j.kernels=scalar} forces the reference. The choice is logged through
 * {@link System.Logger} ({@code org.fomm4j.kernels}) at DEBUG, so a library stays quiet by default;
 * the fallback at WARNING. This class never touches the Vector API itself (no static initializer does),
 * so it loads on any JVM.
 */
public final class KernelProvider {
    private static final System.Logger LOG = System.getLogger("org.fomm4j.kernels");

    private KernelProvider() {
    }

    private static final class Holder {
        static final Kernels INSTANCE = choose();
    }

    /** The kernels for this JVM. */
    public static Kernels get() {
        return Holder.INSTANCE;
    }

    /** The scalar reference implementation. */
    public static Kernels scalar() {
        return new ScalarKernels();
    }

    /**
     * The Vector API implementation.
     *
     * @throws UnsupportedOperationException if {@code jdk.incubator.vector} is not available
     */
    public static Kernels panama() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new UnsupportedOperationException(
                    "the Vector API is not enabled: run the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            Class<?> c = Class.forName("org.fomm4j.kernels.PanamaKernels");
            Constructor<?> ctor = c.getDeclaredConstructor();
            return (Kernels) ctor.newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new UnsupportedOperationException("cannot load the Vector API kernels: " + e, e);
        }
    }

    private static Kernels choose() {
        String forced = System.getProperty("fomm4j.kernels", "");
        if (forced.equalsIgnoreCase("scalar")) {
            LOG.log(System.Logger.Level.DEBUG, "fomm4j kernels: scalar (forced by -Dfomm4j.kernels=scalar)");
            return scalar();
        }
        String noC2 = withoutC2();
        if (noC2 != null) {
            LOG.log(System.Logger.Level.WARNING, "fomm4j kernels: scalar fallback, slow: " + noC2);
            return scalar();
        }
        try {
            Kernels k = panama();
            LOG.log(System.Logger.Level.DEBUG, "fomm4j kernels: " + k.name() + " on " + Parallel.threads() + " threads");
            return k;
        } catch (UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.WARNING, "fomm4j kernels: scalar fallback, slow (" + e.getMessage()
                    + "; the Java flag is --add-modules jdk.incubator.vector)");
            return scalar();
        }
    }

    /** Why this JVM cannot run the Vector API fast (not HotSpot with C2), or null when it can. */
    static String withoutC2() {
        String vm = System.getProperty("java.vm.name", "");
        String info = System.getProperty("java.vm.info", "");
        if (!vm.contains("Server VM")) {
            return "the JVM is \"" + vm + "\", not HotSpot's Server VM (C2), which the Vector API needs to be fast";
        }
        if (info.contains("interpreted mode")) {
            return "the JVM runs interpreted (-Xint); drop -Xint";
        }
        String level = vmOption("TieredStopAtLevel");
        if (level != null && !level.isEmpty() && Integer.parseInt(level) < 4
                && !"false".equals(vmOption("TieredCompilation"))) {
            return "C2 is off (-XX:TieredStopAtLevel=" + level + "); drop that flag";
        }
        return null;
    }

    /** A HotSpot flag's value, or null where the flag is not there. */
    private static String vmOption(String name) {
        try {
            return java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption(name).getValue();
        } catch (IllegalArgumentException | LinkageError e) {
            return null;
        }
    }
}
