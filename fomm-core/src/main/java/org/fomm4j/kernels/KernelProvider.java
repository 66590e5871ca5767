package org.fomm4j.kernels;

import java.lang.reflect.Constructor;
import java.util.logging.Logger;

/**
 * Chooses the {@link Kernels} implementation once per JVM and logs the choice.
 *
 * <p>The Vector API implementation is used when the {@code jdk.incubator.vector} module is in the
 * boot layer (run with {@code --add-modules jdk.incubator.vector}); otherwise the scalar reference,
 * with a warning. {@code -Dfomm4j.kernels=scalar} forces the reference. This class never touches the
 * Vector API itself (no static initializer does), so it loads on any JVM.
 */
public final class KernelProvider {
    private static final Logger LOG = Logger.getLogger(KernelProvider.class.getName());

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
            LOG.info("fomm4j kernels: scalar (forced by -Dfomm4j.kernels=scalar)");
            return scalar();
        }
        try {
            Kernels k = panama();
            LOG.info("fomm4j kernels: " + k.name() + " on " + Parallel.threads() + " threads");
            return k;
        } catch (UnsupportedOperationException e) {
            LOG.warning("fomm4j kernels: scalar fallback, slow (" + e.getMessage() + ")");
            return scalar();
        }
    }
}
