package org.fomm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.junit.jupiter.api.Test;

/**
 * The harness's wrapper must delegate every kernel, the interface's default methods included: one left to
 * the interface runs the scalar reference inside a "Vector API" measurement (the jacobian head's correlation
 * did, about 6% of a FOMM step on Zen 3, before this test).
 */
class CountingKernelsTest {
    @Test
    void everyKernelsMethodIsDelegated() {
        List<String> missing = new ArrayList<>();
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            try {
                CountingKernels.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            } catch (NoSuchMethodException e) {
                missing.add(m.toString());
            }
        }
        assertEquals(List.of(), missing, "CountingKernels does not override these Kernels methods");
    }

    @Test
    void theWrapperReportsTheKernelsItWraps() {
        Kernels k = KernelProvider.get();
        CountingKernels c = new CountingKernels(k);
        assertEquals(k.name(), c.name());
        assertEquals(k.vectorApi(), c.vectorApi());
        assertTrue(!KernelProvider.get().name().startsWith("panama") || c.vectorApi(), c.name());
    }
}
