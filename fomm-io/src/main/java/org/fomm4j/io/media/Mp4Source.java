package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import org.jcodec.api.FrameGrab;
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
 *
 * <p>JCodec hands pictures out in decode order; with B-frames that is not display order. Frames are
 * therefore put back in presentation-time order through a buffer of {@value #REORDER} pictures
 * (H.264 reorders by at most 16 frames), so memory stays bounded.
 */
final class Mp4Source implements VideoSource {
    static final int REORDER = 16;

    static {
        // JCodec prints its decoder's warnings ("IPCM macroblock found...") on stdout; what matters to a
        // user is counted and reported once (concealed frames), so only its errors stay.
        org.jcodec.common.logging.Logger.setLevel(org.jcodec.common.logging.LogLevel.ERROR);
    }

    private record Timed(double pts, long seq, Picture picture) {
    }

    private final java.util.PriorityQueue<Timed> pending = new java.util.PriorityQueue<>(
            java.util.Comparator.comparingDouble(Timed::pts).thenComparingLong(Timed::seq));
    private long decoded;
    private boolean drained;
    private double lastPts = Double.NaN;

    /** Presentation time in seconds of the frame {@link #next()} returned last. */
    double lastPresentationTime() {
        return lastPts;
    }
    private final Path path;
    private final SeekableByteChannel channel;
    private final FrameGrab grab;
    private final Fps fps;
    private final long frames;
    private final YuvColor.Matrix matrix;
    private final boolean fullRange;
    /** Clockwise display rotation of the track (phone videos), degrees. */
    private final int rotation;
    private final double frameDuration;
    private static final int MAX_FAILED_IN_A_ROW = 50;
    /** Largest frame side read (8K UHD is 7680x4320); a larger claim is damage or an attack on memory. */
    static final int MAX_SIDE = 8192;
    private Picture lastGood;
    private double lastGoodPts;
    private int concealed;
    private int failedInARow;

    Mp4Source(Path path) throws IOException {
        this.path = path;
        try {
            Mp4Boxes.validate(path);
            SeekableByteChannel probe = NIOUtils.readableChannel(path.toFile());
            try {
                MP4Demuxer demuxer = bounded(() -> MP4Demuxer.createMP4Demuxer(probe),
                        "cannot read driving video " + path + ": the MP4 reader is stuck on damaged boxes");
                if (demuxer.getVideoTrack() == null) {
                    throw new MediaException("driving video " + path + " has no video track");
                }
                AbstractMP4DemuxerTrack track = (AbstractMP4DemuxerTrack) demuxer.getVideoTrack();
                if (!"avc1".equals(track.getFourcc()) && !"avc3".equals(track.getFourcc())) {
                    throw new MediaException("driving video " + path + " is not H.264 (codec " + track.getFourcc() + ")");
                }
                this.frames = track.getFrameCount();
                if (track instanceof org.jcodec.containers.mp4.demuxer.PCMMP4DemuxerTrack) {
                    // JCodec takes a track whose samples all have one size (a one-frame video) for PCM audio.
                    throw new MediaException("driving video " + path + " has " + (frames == 1 ? "a single frame" : "frames of one size")
                            + ", which the MP4 reader (JCodec) takes for audio; use a longer video, or the frame as a PNG in a folder");
                }
                var orientation = track.getMeta() == null ? null : track.getMeta().getOrientation();
                this.rotation = orientation == null ? 0 : switch (orientation) {
                    case D_90 -> 90;
                    case D_180 -> 180;
                    case D_270 -> 270;
                    default -> 0;
                };
                if (frames <= 0) {
                    throw new MediaException("driving video " + path + " has no frames");
                }
                long num = track.getDuration().getNum(), den = track.getDuration().getDen();
                // fps = frames / (num / den)
                this.fps = rational(frames * den, num);
                this.frameDuration = num > 0 && frames > 0 ? (double) num / den / frames : 0.04;
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
                        long spsW = (sps.picWidthInMbsMinus1 + 1L) * 16;
                        long spsH = (sps.picHeightInMapUnitsMinus1 + 1L) * 16 * (sps.frameMbsOnlyFlag ? 1 : 2);
                        if (spsW > MAX_SIDE || spsH > MAX_SIDE) {
                            // JCodec allocates its pictures from these numbers before decoding a byte of them.
                            throw new MediaException("driving video " + path + " claims frames of " + spsW + "x" + spsH
                                    + " pixels; at most " + MAX_SIDE + " on a side are read");
                        }
                        unsupported(path, sps);
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
            this.grab = bounded(() -> FrameGrab.createFrameGrab(channel),
                    "cannot read driving video " + path + ": the MP4 reader is stuck on damaged boxes");
        } catch (MediaException e) {
            closeDecoder();
            throw e;
        } catch (IOException | RuntimeException e) {
            closeDecoder();
            throw new MediaException("cannot read driving video " + path + ": " + (e.getMessage() == null ? e : e.getMessage()), e);
        }
    }

    /** H.264 features JCodec's decoder lacks, named with what to do, before any frame is decoded. */
    private static void unsupported(Path path, SeqParameterSet sps) throws MediaException {
        String fix = "; re-encode it, e.g. ffmpeg -i IN -pix_fmt yuv420p -c:v libx264 OUT.mp4";
        // High 10, High 4:2:2, High 4:4:4 (Predictive and CAVLC Intra): JCodec does not even parse their SPS
        // correctly (it took a 4:4:4 stream for interlaced), so the profile is checked first.
        String profile = switch (sps.profileIdc) {
            case 110 -> "High 10";
            case 122 -> "High 4:2:2";
            case 244 -> "High 4:4:4 Predictive";
            case 44 -> "CAVLC 4:4:4 Intra";
            default -> null;
        };
        if (profile != null) {
            throw new MediaException("driving video " + path + " is H.264 " + profile + " profile, which the pure-Java decoder"
                    + " does not read (Baseline, Main and High only)" + fix);
        }
        var cs = sps.chromaFormatIdc;
        if (cs != null && cs != org.jcodec.common.model.ColorSpace.YUV420J && cs != org.jcodec.common.model.ColorSpace.YUV420) {
            String name = cs == org.jcodec.common.model.ColorSpace.YUV444 || cs == org.jcodec.common.model.ColorSpace.YUV444J ? "4:4:4"
                    : cs == org.jcodec.common.model.ColorSpace.YUV422 || cs == org.jcodec.common.model.ColorSpace.YUV422J ? "4:2:2"
                    : cs == org.jcodec.common.model.ColorSpace.MONO ? "monochrome" : cs.toString();
            throw new MediaException("driving video " + path + " is H.264 with " + name
                    + " chroma, which the pure-Java decoder does not read (only 4:2:0)" + fix);
        }
        if (sps.bitDepthLumaMinus8 != 0 || sps.bitDepthChromaMinus8 != 0) {
            throw new MediaException("driving video " + path + " is " + (8 + sps.bitDepthLumaMinus8)
                    + "-bit H.264, which the pure-Java decoder does not read (only 8-bit)" + fix);
        }
        if (!sps.frameMbsOnlyFlag) {
            throw new MediaException("driving video " + path + " is interlaced H.264 (field or MBAFF coding), which the"
                    + " pure-Java decoder does not read" + fix);
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
        while (!drained && pending.size() <= REORDER) {
            org.jcodec.api.PictureWithMetadata p;
            try {
                p = decodeNext();
                failedInARow = 0;
            } catch (RuntimeException e) {
                // A corrupt or unsupported packet: conceal it with the last good picture (as ffmpeg
                // conceals damaged macroblocks), unless nothing decodes at all.
                if (decoded >= frames) {
                    drained = true; // past the frames the header announces: nothing left to conceal
                    continue;
                }
                if (lastGood == null || ++failedInARow > MAX_FAILED_IN_A_ROW) {
                    throw new MediaException("cannot decode driving video " + path + " at frame " + decoded + ": " + e, e);
                }
                concealed++;
                repeated.add(lastGood);
                lastGoodPts += frameDuration;
                pending.add(new Timed(lastGoodPts, decoded++, lastGood));
                continue;
            }
            if (p == null || p.getPicture() == null) {
                drained = true;
            } else {
                // The decoder reuses its buffers: keep a deep copy until the picture's turn comes
                // (JCodec's Picture.copyPicture shares the planes).
                Picture copy = deepCopy(p.getPicture());
                lastGood = copy;
                lastGoodPts = p.getTimestamp();
                pending.add(new Timed(p.getTimestamp(), decoded++, copy));
            }
        }
        Timed t = pending.poll();
        if (t == null) {
            return null;
        }
        lastPts = t.pts();
        BufferedImage rgb = rotate(YuvColor.toRgb(t.picture(), matrix, fullRange), rotation);
        // The copy's planes serve the next decoded picture: the 16 pictures waiting in the reorder buffer
        // outlive young collections, so fresh copies would be promoted and pile up in the old generation
        // of a long video (measured: 0.24 MB a frame). Pictures that concealment may repeat are not reused.
        if (t.picture() != lastGood && !repeated.contains(t.picture())) {
            free.push(t.picture().getData());
        }
        return rgb;
    }

    private final java.util.ArrayDeque<byte[][]> free = new java.util.ArrayDeque<>();
    private final java.util.Set<Picture> repeated = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /**
     * Seconds one frame may take to decode before the decoder is declared stuck. Fuzzing found corrupt
     * CABAC data on which JCodec loops forever (reading {@code mb_qp_delta}); decoding runs on a daemon
     * thread so that the caller gets an error instead of a hang. The stuck thread cannot be stopped and
     * spins until the JVM exits (the CLI exits at once).
     */
    private final long decodeTimeoutSeconds = Long.getLong("fomm4j.decodeTimeoutSeconds", 20);
    private java.util.concurrent.ExecutorService decoder;

    /**
     * Runs {@code work} (a frame's decoding, or one of JCodec's container parses, whose box parsers can
     * also loop forever on damage {@link Mp4Boxes} does not know) on the decoder's daemon thread, for at
     * most {@code decodeTimeoutSeconds}; past that the decoder is given up and {@code stuck}, followed by
     * the time waited, is the error.
     */
    private <T> T bounded(java.util.concurrent.Callable<T> work, String stuck) throws IOException {
        if (decoder == null) {
            decoder = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "fomm4j-h264-decoder");
                t.setDaemon(true);
                return t;
            });
        }
        java.util.concurrent.Future<T> f = decoder.submit(work);
        try {
            return f.get(decodeTimeoutSeconds, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            decoder.shutdownNow();
            drained = true;
            throw new MediaException(stuck + " (no result after " + decodeTimeoutSeconds + " s)");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            // JCodecException (checked) or an Error of the decoder: its message says what went wrong.
            Throwable c = e.getCause();
            throw new MediaException("cannot read driving video " + path + ": " + (c.getMessage() == null ? c : c.getMessage()), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading " + path);
        }
    }

    /** The decoder's thread ends with a source that fails to open (or a stuck one spins on, see above). */
    private void closeDecoder() {
        if (decoder != null) {
            decoder.shutdownNow();
        }
    }

    private org.jcodec.api.PictureWithMetadata decodeNext() throws IOException {
        return bounded(grab::getNativeFrameWithMetadata, "cannot decode driving video " + path + " at frame " + decoded
                + ": the H.264 decoder is stuck on corrupt data");
    }

    @Override
    public int concealedFrames() {
        return concealed;
    }

    /** {@code img} turned clockwise by {@code degrees} (0, 90, 180, 270): the track's display orientation. */
    static BufferedImage rotate(BufferedImage img, int degrees) {
        if (degrees == 0) {
            return img;
        }
        int w = img.getWidth(), h = img.getHeight();
        boolean swap = degrees == 90 || degrees == 270;
        BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, BufferedImage.TYPE_INT_RGB);
        int[] src = img.getRGB(0, 0, w, h, null, 0, w);
        int ow = out.getWidth();
        int[] dst = new int[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = src[y * w + x];
                switch (degrees) {
                    case 90 -> dst[x * ow + (h - 1 - y)] = v;
                    case 180 -> dst[(h - 1 - y) * ow + (w - 1 - x)] = v;
                    default -> dst[(w - 1 - x) * ow + y] = v;
                }
            }
        }
        out.setRGB(0, 0, ow, out.getHeight(), dst, 0, ow);
        return out;
    }

    private Picture deepCopy(Picture p) {
        byte[][] planes = free.poll();
        if (planes == null || planes.length != p.getData().length) {
            planes = new byte[p.getData().length][];
        }
        for (int i = 0; i < planes.length; i++) {
            byte[] src = p.getPlaneData(i);
            if (planes[i] == null || planes[i].length != src.length) {
                planes[i] = new byte[src.length];
            }
            System.arraycopy(src, 0, planes[i], 0, src.length);
        }
        return new Picture(p.getWidth(), p.getHeight(), planes, null, p.getColor(), 0, p.getCrop());
    }

    @Override
    public void close() throws IOException {
        if (decoder != null) {
            decoder.shutdown();
        }
        channel.close();
    }
}
