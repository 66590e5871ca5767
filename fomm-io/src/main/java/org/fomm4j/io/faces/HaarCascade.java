package org.fomm4j.io.faces;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * An OpenCV boosted Haar cascade (the {@code opencv-cascade-classifier} XML of OpenCV 2.4+, {@code BOOST}
 * stages of decision trees over upright {@code HAAR} features), evaluated as OpenCV's
 * {@code HaarEvaluator} does: a window's feature values are divided by the standard deviation of the
 * window's inner area, each tree walks to a leaf, and a stage passes when its leaves sum to at least its
 * threshold. The model is OpenCV's, shipped as it is distributed (Debian {@code opencv-data}, Intel
 * License Agreement kept in the file); this class is only the evaluator.
 */
final class HaarCascade {
    /** One rectangle of a feature, in window coordinates, and its weight. */
    record Rect(int x, int y, int w, int h, float weight) {
    }

    /** A tree: {@code left, right, feature, threshold} per internal node, leaves indexed by {@code -child}. */
    record Tree(int[] left, int[] right, int[] feature, float[] threshold, float[] leaves) {
    }

    record Stage(float threshold, Tree[] trees) {
    }

    final int width;
    final int height;
    final Stage[] stages;
    final Rect[][] features;

    private HaarCascade(int width, int height, Stage[] stages, Rect[][] features) {
        this.width = width;
        this.height = height;
        this.stages = stages;
        this.features = features;
    }

    /** The frontal face cascade shipped with fomm4j ({@code haarcascade_frontalface_default.xml}, 24x24). */
    static HaarCascade frontalFace() {
        try (InputStream in = HaarCascade.class.getResourceAsStream("haarcascade_frontalface_default.xml")) {
            return read(in);
        } catch (IOException e) {
            throw new IllegalStateException("the bundled face cascade cannot be read", e);
        }
    }

    /** @throws IOException for XML that is not a BOOST/HAAR cascade */
    static HaarCascade read(InputStream in) throws IOException {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            doc = f.newDocumentBuilder().parse(in);
        } catch (Exception e) {
            throw new IOException("not a cascade XML file: " + e.getMessage(), e);
        }
        Element cascade = child(doc.getDocumentElement(), "cascade");
        if (cascade == null || !"BOOST".equals(text(cascade, "stageType")) || !"HAAR".equals(text(cascade, "featureType"))) {
            throw new IOException("not a BOOST/HAAR opencv-cascade-classifier");
        }
        int w = Integer.parseInt(text(cascade, "width")), h = Integer.parseInt(text(cascade, "height"));
        List<Stage> stages = new ArrayList<>();
        for (Element st : items(child(cascade, "stages"))) {
            float threshold = Float.parseFloat(text(st, "stageThreshold"));
            List<Tree> trees = new ArrayList<>();
            for (Element wc : items(child(st, "weakClassifiers"))) {
                String[] nodes = text(wc, "internalNodes").trim().split("\\s+");
                String[] leafs = text(wc, "leafValues").trim().split("\\s+");
                int n = nodes.length / 4;
                int[] left = new int[n], right = new int[n], feature = new int[n];
                float[] thr = new float[n];
                for (int i = 0; i < n; i++) {
                    left[i] = Integer.parseInt(nodes[4 * i]);
                    right[i] = Integer.parseInt(nodes[4 * i + 1]);
                    feature[i] = Integer.parseInt(nodes[4 * i + 2]);
                    thr[i] = Float.parseFloat(nodes[4 * i + 3]);
                }
                float[] leaves = new float[leafs.length];
                for (int i = 0; i < leafs.length; i++) {
                    leaves[i] = Float.parseFloat(leafs[i]);
                }
                trees.add(new Tree(left, right, feature, thr, leaves));
            }
            stages.add(new Stage(threshold, trees.toArray(Tree[]::new)));
        }
        List<Rect[]> features = new ArrayList<>();
        for (Element fe : items(child(cascade, "features"))) {
            if ("1".equals(text(fe, "tilted"))) {
                throw new IOException("tilted Haar features are not supported");
            }
            List<Rect> rects = new ArrayList<>();
            for (Element r : items(child(fe, "rects"))) {
                String[] v = r.getTextContent().trim().split("\\s+");
                rects.add(new Rect(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]), Integer.parseInt(v[3]),
                        Float.parseFloat(v[4])));
            }
            features.add(rects.toArray(Rect[]::new));
        }
        return new HaarCascade(w, h, stages.toArray(Stage[]::new), features.toArray(Rect[][]::new));
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }

    private static List<Element> items(Element parent) {
        List<Element> out = new ArrayList<>();
        if (parent != null) {
            for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && e.getTagName().equals("_")) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    /**
     * Whether the window at {@code (x, y)} of the integral images passes every stage.
     *
     * @param sum   integral image, {@code (W + 1) x (H + 1)}, {@code sum[y][x]} = pixels above and left
     * @param sqsum integral of squared pixels
     * @param stride {@code W + 1}
     */
    boolean accepts(double[] sum, double[] sqsum, int stride, int x, int y) {
        // Normalization over the window's inner area, as OpenCV (normrect = 1, 1, w - 2, h - 2).
        int nx = x + 1, ny = y + 1, nw = width - 2, nh = height - 2;
        double area = (double) nw * nh;
        double s = rectSum(sum, stride, nx, ny, nw, nh), sq = rectSum(sqsum, stride, nx, ny, nw, nh);
        double nf = area * sq - s * s;
        nf = nf > 0 ? Math.sqrt(nf) : 1;
        double inv = 1 / nf;
        for (Stage st : stages) {
            double total = 0;
            for (Tree t : st.trees()) {
                int idx = 0;
                while (true) {
                    double v = 0;
                    for (Rect r : features[t.feature()[idx]]) {
                        v += r.weight() * rectSum(sum, stride, x + r.x(), y + r.y(), r.w(), r.h());
                    }
                    int next = v * inv < t.threshold()[idx] ? t.left()[idx] : t.right()[idx];
                    if (next <= 0) {
                        total += t.leaves()[-next];
                        break;
                    }
                    idx = next;
                }
            }
            if (total < st.threshold()) {
                return false;
            }
        }
        return true;
    }

    private static double rectSum(double[] ii, int stride, int x, int y, int w, int h) {
        return ii[(y + h) * stride + x + w] - ii[y * stride + x + w] - ii[(y + h) * stride + x] + ii[y * stride + x];
    }
}
