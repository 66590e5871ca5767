package org.fomm4j.animation;

/**
 * How driving keypoints are turned into the keypoints given to the generator ({@code normalize_kp} of
 * the reference demo).
 */
public enum AnimationMode {
    /** Absolute driving keypoints and jacobians, as detected. */
    STANDARD,
    /**
     * Relative motion: {@code kp_s + (kp_d - kp_d0)} and jacobian {@code J_d J_d0^-1 J_s}, where
     * {@code d0} is the initial driving frame.
     */
    RELATIVE,
    /** {@link #RELATIVE} with the movement scaled by {@code sqrt(hull area(kp_s)) / sqrt(hull area(kp_d0))}. */
    RELATIVE_ADAPT,
    /** TPSMM only: keypoints from the AVD network, {@code avd_network(kp_source, kp_driving)}. */
    AVD;

    /** Parses {@code standard}, {@code relative}, {@code relative-adapt} (or {@code relative_adapt}). */
    public static AnimationMode parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT).replace('_', '-')) {
            case "standard" -> STANDARD;
            case "relative" -> RELATIVE;
            case "relative-adapt", "adapt" -> RELATIVE_ADAPT;
            case "avd" -> AVD;
            default -> throw new IllegalArgumentException("unknown animation mode '" + s
                    + "' (expected standard, relative, relative-adapt or avd)");
        };
    }
}
