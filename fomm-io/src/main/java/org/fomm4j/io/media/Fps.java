package org.fomm4j.io.media;

/** A frame rate as a fraction {@code num / den} frames per second (25/1, 30000/1001). */
public record Fps(int num, int den) {
    public Fps {
        if (num <= 0 || den <= 0) {
            throw new IllegalArgumentException("invalid frame rate " + num + "/" + den);
        }
        int g = gcd(num, den);
        num /= g;
        den /= g;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public double value() {
        return (double) num / den;
    }

    /** Parses {@code 25}, {@code 29.97} or {@code 30000/1001}. */
    public static Fps parse(String s) {
        try {
            if (s.contains("/")) {
                String[] p = s.split("/");
                return new Fps(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
            }
            double v = Double.parseDouble(s);
            if (Math.abs(v - Math.rint(v)) < 1e-9) {
                return new Fps((int) Math.rint(v), 1);
            }
            return new Fps((int) Math.round(v * 1000), 1000);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid frame rate '" + s + "' (expected e.g. 25, 29.97 or 30000/1001)");
        }
    }

    @Override
    public String toString() {
        return den == 1 ? Integer.toString(num) : String.format("%.3f", value());
    }
}
