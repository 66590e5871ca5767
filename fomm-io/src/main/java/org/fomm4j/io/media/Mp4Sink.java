package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.fomm4j.tensor.Tensor;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.VideoEncoder;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.MP4TrackType;
import org.jcodec.containers.mp4.demuxer.AbstractMP4DemuxerTrack;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;
import org.jcodec.containers.mp4.muxer.MP4Muxer;
import org.jcodec.containers.mp4.muxer.MP4MuxerTrack;

/**
 * An MP4 with H.264 video (JCodec's pure-Java encoder, BT.601 TV range) at the given frame rate and,
 * on request, the first audio track of another MP4 copied as is (its samples and its {@code mp4a}
 * sample entry, so AAC needs no re-encoding).
 */
final class Mp4Sink implements VideoSink {
    private final TempOutput out;
    private final SeekableByteChannel channel;
    private final MP4Muxer muxer;
    private final Fps fps;
    private final Path audioFrom;
    private final H264Encoder encoder = H264Encoder.createH264Encoder();
    private MuxerTrack video;
    private ByteBuffer buffer;
    private long frameNo;

    Mp4Sink(Path target, Fps fps, Path audioFrom) throws IOException {
        if (audioFrom != null) {
            checkAudioSource(audioFrom);
        }
        this.out = TempOutput.file(target);
        this.fps = fps;
        this.audioFrom = audioFrom;
        this.channel = NIOUtils.writableChannel(out.temp.toFile());
        this.muxer = MP4Muxer.createMP4MuxerToChannel(channel);
    }

    /**
     * Checks before any work that {@code video} is an MP4 with an audio track to copy.
     *
     * @throws MediaException naming what is missing
     */
    static void checkAudioSource(Path video) throws IOException {
        String name = video.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (!(name.endsWith(".mp4") || name.endsWith(".m4v") || name.endsWith(".mov"))) {
            throw new MediaException("--audio copies the audio of an MP4 driving video; " + video.getFileName() + " is not one");
        }
        try (SeekableByteChannel in = NIOUtils.readableChannel(video.toFile())) {
            if (MP4Demuxer.createMP4Demuxer(in).getAudioTracks().isEmpty()) {
                throw new MediaException("--audio: the driving video " + video.getFileName() + " has no audio track");
            }
        } catch (MediaException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MediaException("cannot read driving video " + video + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void write(Tensor frame) throws IOException {
        int h = frame.dim(2), w = frame.dim(3);
        Picture pic = YuvColor.fromRgb(Images.toRgb(frame), w, h);
        if (video == null) {
            video = muxer.addVideoTrack(Codec.H264, VideoCodecMeta.createSimpleVideoCodecMeta(new Size(pic.getWidth(), pic.getHeight()),
                    ColorSpace.YUV420J));
            buffer = ByteBuffer.allocate(pic.getWidth() * pic.getHeight() * 6);
        }
        buffer.clear();
        VideoEncoder.EncodedFrame ef = encoder.encodeFrame(pic, buffer);
        ByteBuffer data = ef.getData();
        ByteBuffer copy = ByteBuffer.allocate(data.remaining());
        copy.put(data).flip();
        video.addFrame(Packet.createPacket(copy, frameNo * fps.den(), fps.num(), fps.den(), frameNo,
                ef.isKeyFrame() ? Packet.FrameType.KEY : Packet.FrameType.INTER, null));
        frameNo++;
    }

    @Override
    public void finish() throws IOException {
        if (frameNo == 0) {
            throw new MediaException("no frames were generated; nothing written to " + out.target);
        }
        if (audioFrom != null) {
            copyAudio();
        }
        muxer.finish();
        channel.close();
        out.commit();
    }

    private void copyAudio() throws IOException {
        try (SeekableByteChannel in = NIOUtils.readableChannel(audioFrom.toFile())) {
            MP4Demuxer demuxer = MP4Demuxer.createMP4Demuxer(in);
            if (demuxer.getAudioTracks().isEmpty()) {
                throw new MediaException("--audio: the driving video " + audioFrom.getFileName() + " has no audio track");
            }
            AbstractMP4DemuxerTrack src = (AbstractMP4DemuxerTrack) demuxer.getAudioTracks().get(0);
            MP4MuxerTrack dst = muxer.addTrack(new MP4MuxerTrack(muxer.getNextTrackId(), MP4TrackType.SOUND));
            dst.addSampleEntry(src.getSampleEntries()[0]);
            // Only as much audio as there is video.
            double videoSeconds = frameNo / fps.value();
            Packet p;
            while ((p = src.nextFrame()) != null) {
                if (p.getPtsD() >= videoSeconds) {
                    break;
                }
                ByteBuffer copy = ByteBuffer.allocate(p.getData().remaining());
                copy.put(p.getData()).flip();
                dst.addFrame(Packet.createPacketWithData(p, copy));
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
        out.discard();
    }
}
