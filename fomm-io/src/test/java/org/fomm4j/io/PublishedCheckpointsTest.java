package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fomm4j.io.weights.PublishedCheckpoints;
import org.junit.jupiter.api.Test;

/** The bundled list of published checkpoints, which conversion uses to name the file it was given. */
class PublishedCheckpointsTest {
    @Test
    void knownSha256NamesTheCheckpointAndItsConfig() {
        var e = PublishedCheckpoints.bySha256("ABB41AB1F279F26326C0D6E4D20702DE6658364665AA1313DAA7A63E89EA2B23").orElseThrow();
        assertEquals("fomm", e.family());
        assertEquals("vox-cpk.pth.tar", e.file());
        assertEquals("vox-256.yaml", e.config());
        assertEquals(728766691L, e.size());
        assertTrue(PublishedCheckpoints.bySha256("00".repeat(32)).isEmpty());
    }
}
