package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import org.jcodec.api.FrameGrab;
import org.jcodec.api.JCodecException;
import org.jcodec.codecs.h264.H264Utils;
import org.jcodec.codecs.h264.io.model.SeqParameterSet;
import org.jcodec.codecs.h264.mp4.AvcCBox;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.Picture;
import org.jcodec.containers.mp4.boxes.SampleEntry;
import org.jcodec.containers.mp4.boxes.VideoSampleEntry;
import org.jcodec.containers.mp4.demuxer.AbstractMP4DemuxerTrack;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;

/**
 * H.264 video from an MP4/MOV file, decoded in pure Java by JCodec (Baseline, Main and High
 * profiles, 8-bit 4:2:0). Colours are converted with the matrix and range of the stream's VUI.
 */
final class Mp4Source implements VideoSource {
    private final Path path;
    private final SeekableByteChannel channel;
    private final FrameGrab grab;
    private final Fps fps;
    private final long frames;
    private final YuvColor.Matrix matrix;
    private final boolean fullRange;

    Mp4Source(Path path) throws IOException {
        this.path = path;
        try {
            SeekableByteChannel probe = NIOUtils.readableChannel(path.toFile());
            try {
                MP4Demuxer demuxer = MP4Demuxer.createMP4Demuxer(probe);
                if (demuxer.getVideoTrack() == null) {
                    throw new MediaException("driving video " + path + " has no video track");
                }
                AbstractMP4DemuxerTrack track = (AbstractMP4DemuxerTrack) demuxer.getVideoTrack();
                if (!"avc1".equals(track.getFourcc()) && !"avc3".equals(track.getFourcc())) {
                    throw new MediaException("driving video " + path + " is not H.264 (codec " + track.getFourcc() + ")");
                }
                this.frames = track.getFrameCount();
                if (frames <= 0) {
                    throw new MediaException("driving video " + path + " has no frames");
                }
                long num = track.getDuration().getNum(), den = track.getDuration().getDen();
                // fps = frames / (num / den)
                this.fps = rational(frames * den, num);
                SampleEntry se = track.getSampleEntries()[0];
                int mc = 2;
                boolean full = false;
                int w = 0, h = 0;
                if (se instanceof VideoSampleEntry v) {
                    w = v.getWidth();
                    h = v.getHeight();
                    AvcCBox avcC = H264Utils.parseAVCC(v);
                    if (avcC != null && !avcC.getSpsList().isEmpty()) {
                        SeqParameterSet sps = SeqParameterSet.read(avcC.getSpsList().get(0).duplicate());
                        if (sps.vuiParams != null) {
                            full = sps.vuiParams.videoFullRangeFlag;
                            if (sps.vuiParams.colourDescriptionPresentFlag) {
                                mc = sps.vuiParams.matrixCoefficients;
                            }
                        }
                    }
                }
                this.matrix = YuvColor.Matrix.of(mc, w, h);
                this.fullRange = full;
            } finally {
                probe.close();
            }
            this.channel = NIOUtils.readableChannel(path.toFile());
            this.grab = FrameGrab.createFrameGrab(channel);
        } catch (MediaException e) {
            throw e;
        } catch (IOException | JCodecException | RuntimeException e) {
            throw new MediaException("cannot read driving video " + path + ": " + (e.getMessage() == null ? e : e.getMessage()), e);
        }
    }

    private static Fps rational(long num, long den) {
        while (num > Integer.MAX_VALUE || den > Integer.MAX_VALUE) {
            num /= 2;
            den /= 2;
        }
        return new Fps((int) num, (int) den);
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
        Picture pic;
        try {
            pic = grab.getNativeFrame();
        } catch (RuntimeException e) {
            throw new MediaException("cannot decode driving video " + path + ": " + e, e);
        }
        return pic == null ? null : YuvColor.toRgb(pic, matrix, fullRange);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
