package io.distill4j.minilm;

import io.distill4j.models.lm.SentenceEmbedder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MiniLmEmbedderTest {

    @Test
    void identicalSentencesHaveCosineOneAndRelatedPairsBeatUnrelatedOnes() {
        SentenceEmbedder e = new MiniLmEmbedder();
        double[] a = e.embed("The cat sits on the mat.");
        assertEquals(MiniLmEmbedder.DIMENSION, a.length);
        double norm = 0;
        for (double x : a) {
            norm += x * x;
        }
        assertEquals(1, Math.sqrt(norm), 1e-4, "embeddings are L2-normalised");
        assertEquals(1, SentenceEmbedder.cosine(a, e.embed("The cat sits on the mat.")), 1e-9);
        double related = SentenceEmbedder.cosine(a, e.embed("A kitten is resting on a rug."));
        double unrelated = SentenceEmbedder.cosine(a, e.embed("Interest rates rose sharply in the bond market."));
        assertTrue(related > unrelated + 0.2, related + " vs " + unrelated);
        double colours = SentenceEmbedder.cosine(e.embed("blue"), e.embed("red"));
        double mixed = SentenceEmbedder.cosine(e.embed("blue"), e.embed("tokyo"));
        assertTrue(colours > mixed, "two colours are closer than a colour and a city: " + colours + " vs " + mixed);
    }

    @Test
    void blankTextIsTheZeroVectorWithCosineZero() {
        SentenceEmbedder e = new MiniLmEmbedder();
        double[] z = e.embed("  ");
        assertEquals(0, SentenceEmbedder.cosine(z, e.embed("blue")), 0);
    }

    @Test
    void cosineByHand() {
        assertEquals(0.6, SentenceEmbedder.cosine(new double[] {3, 4}, new double[] {1, 0}), 1e-15);
        assertEquals(-1, SentenceEmbedder.cosine(new double[] {1, 1}, new double[] {-2, -2}), 1e-15);
    }
}
