package org.fomm4j.io.media;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * An animated GIF, composited frame by frame (frame offsets and the "restore to background" /
 * "do not dispose" disposal methods); the frame rate comes from the first frame's delay.
 */
final class GifSource implements VideoSource {
    private final Path path;
    private final ImageInputStream in;
    private final ImageReader reader;
    private final int frames;
    private final Fps fps;
    private BufferedImage canvas;
    private int index;

    GifSource(Path path) throws IOException {
        this.path = path;
        try {
            this.in = ImageIO.createImageInputStream(path.toFile());
            Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("gif");
            this.reader = it.next();
            reader.setInput(in, false);
            this.frames = reader.getNumImages(true);
            if (frames <= 0) {
                throw new MediaException("driving video " + path + " has no frames");
            }
            int delay = attr(reader.getImageMetadata(0), "GraphicControlExtension", "delayTime", 4);
            this.fps = delay > 0 ? new Fps(100, delay) : new Fps(25, 1);
        } catch (MediaException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MediaException("cannot read GIF " + path + ": " + e.getMessage(), e);
        }
    }

    private static int attr(IIOMetadata meta, String node, String name, int dflt) {
        Node root = meta.getAsTree("javax_imageio_gif_image_1.0");
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals(node) && n.getAttributes().getNamedItem(name) != null) {
                String v = n.getAttributes().getNamedItem(name).getNodeValue();
                try {
                    return Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    return dflt;
                }
            }
        }
        return dflt;
    }

    private static String attrText(IIOMetadata meta, String node, String name) {
        Node root = meta.getAsTree("javax_imageio_gif_image_1.0");
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals(node) && n.getAttributes().getNamedItem(name) != null) {
                return n.getAttributes().getNamedItem(name).getNodeValue();
            }
        }
        return "";
    }

    @Override
    public Fps fps() {
        return fps;
    }

    @Override
    public long frameCount() {
        return frames;
    }

    @Override
    public BufferedImage next() throws IOException {
        if (index >= frames) {
            return null;
        }
        try {
            BufferedImage frame = reader.read(index);
            IIOMetadata meta = reader.getImageMetadata(index);
            int x = attr(meta, "ImageDescriptor", "imageLeftPosition", 0);
            int y = attr(meta, "ImageDescriptor", "imageTopPosition", 0);
            if (canvas == null) {
                int w = Math.max(frame.getWidth() + x, reader.getWidth(0));
                int h = Math.max(frame.getHeight() + y, reader.getHeight(0));
                canvas = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
            }
            Graphics2D g = canvas.createGraphics();
            g.drawImage(frame, x, y, null);
            g.dispose();
            BufferedImage out = new BufferedImage(canvas.getWidth(), canvas.getHeight(), BufferedImage.TYPE_INT_RGB);
            Graphics2D o = out.createGraphics();
            o.drawImage(canvas, 0, 0, null);
            o.dispose();
            if ("restoreToBackgroundColor".equals(attrText(meta, "GraphicControlExtension", "disposalMethod"))) {
                Graphics2D c = canvas.createGraphics();
                c.setComposite(java.awt.AlphaComposite.Clear);
                c.fillRect(x, y, frame.getWidth(), frame.getHeight());
                c.dispose();
            }
            index++;
            return out;
        } catch (IOException | RuntimeException e) {
            throw new MediaException("cannot decode GIF " + path + " frame " + index + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        reader.dispose();
        in.close();
    }
}
