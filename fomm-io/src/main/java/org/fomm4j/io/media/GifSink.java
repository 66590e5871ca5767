package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import org.fomm4j.tensor.Tensor;

/** An animated, looping GIF (ImageIO's writer; delays in hundredths of a second from the frame rate). */
final class GifSink implements VideoSink {
    private final TempOutput out;
    private final ImageOutputStream stream;
    private final ImageWriter writer;
    private final int delay;
    private int frames;
    private boolean streamClosed;

    GifSink(Path target, Fps fps) throws IOException {
        this.out = TempOutput.file(target);
        this.stream = ImageIO.createImageOutputStream(out.temp.toFile());
        this.writer = ImageIO.getImageWritersByFormatName("gif").next();
        writer.setOutput(stream);
        writer.prepareWriteSequence(null);
        this.delay = Math.max(1, (int) Math.round(100.0 / fps.value()));
    }

    @Override
    public void write(Tensor frame) throws IOException {
        BufferedImage rgb = Images.toImage(frame);
        ImageTypeSpecifier type = ImageTypeSpecifier.createFromRenderedImage(rgb);
        IIOMetadata meta = writer.getDefaultImageMetadata(type, null);
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(delay));
        gce.setAttribute("transparentColorIndex", "0");
        if (frames == 0) {
            IIOMetadataNode app = child(child(root, "ApplicationExtensions"), "ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0});
        }
        meta.setFromTree(format, root);
        writer.writeToSequence(new IIOImage(rgb, null, meta), null);
        frames++;
    }

    private static IIOMetadataNode child(IIOMetadataNode parent, String name) {
        for (int i = 0; i < parent.getLength(); i++) {
            if (parent.item(i).getNodeName().equals(name)) {
                return (IIOMetadataNode) parent.item(i);
            }
        }
        IIOMetadataNode n = new IIOMetadataNode(name);
        parent.appendChild(n);
        return n;
    }

    @Override
    public void finish() throws IOException {
        if (frames == 0) {
            throw new MediaException("no frames were generated; nothing written to " + out.target);
        }
        writer.endWriteSequence();
        stream.close();
        streamClosed = true;
        out.commit();
    }

    @Override
    public void close() throws IOException {
        writer.dispose();
        if (!streamClosed) {
            streamClosed = true;
            stream.close();
        }
        out.discard();
    }
}
