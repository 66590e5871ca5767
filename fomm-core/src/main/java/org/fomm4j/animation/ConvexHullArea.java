package org.fomm4j.animation;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.geometry.euclidean.twod.Vector2D;
import org.apache.commons.math3.geometry.euclidean.twod.hull.ConvexHull2D;
import org.apache.commons.math3.geometry.euclidean.twod.hull.MonotoneChain;
import org.fomm4j.tensor.Tensor;

/**
 * Area of the convex hull of a set of 2-D keypoints ({@code scipy.spatial.ConvexHull(...).volume} in
 * the reference), with Commons Math's monotone chain and the shoelace formula in double precision.
 */
public final class ConvexHullArea {
    private ConvexHullArea() {
    }

    /**
     * @param kp {@code [1, K, 2]} or {@code [K, 2]} keypoints (batch item 0 is used)
     * @return the hull area in squared normalized units; 0 when the points are collinear
     */
    public static double of(Tensor kp) {
        int k = kp.dim(-2);
        List<Vector2D> pts = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            pts.add(new Vector2D(kp.get(i * 2), kp.get(i * 2 + 1)));
        }
        if (k < 3) {
            return 0;
        }
        ConvexHull2D hull = new MonotoneChain(false, 1e-12).generate(pts);
        Vector2D[] v = hull.getVertices();
        double area = 0;
        for (int i = 0; i < v.length; i++) {
            Vector2D a = v[i], b = v[(i + 1) % v.length];
            area += a.getX() * b.getY() - b.getX() * a.getY();
        }
        return Math.abs(area) / 2;
    }
}
