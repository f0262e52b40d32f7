package io.distill4j.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The datasets shipped with distill4j, found without configuration: {@code datasets/} under the distill4j home
 * ({@code -Ddistill4j.home}, which the launcher sets), else the nearest {@code datasets/} folder above the working
 * directory.
 */
public final class Datasets {

    private Datasets() {
    }

    /**
     * Loads one of scikit-learn's bundled datasets ({@code datasets/sklearn/}).
     *
     * @param name {@code digits}, {@code iris}, {@code wine}, {@code breast_cancer} or {@code diabetes}
     * @return the table
     * @throws BadInputException if the name is unknown or the files are missing
     */
    public static TabularData sklearn(String name) {
        return SklearnCsv.load(name, folder("sklearn"));
    }

    /**
     * The folder of a shipped dataset family.
     *
     * @param family e.g. {@code sklearn}, {@code boston}, {@code mnist}
     * @return {@code <datasets>/<family>}
     * @throws BadInputException if no {@code datasets/} folder holding it is found
     */
    public static Path folder(String family) {
        String home = System.getProperty("distill4j.home");
        if (home != null) {
            Path p = Path.of(home, "datasets", family);
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("datasets").resolve(family);
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new BadInputException("datasets/" + family + ": not found under the distill4j home (-Ddistill4j.home="
                + home + ") or above " + Path.of("").toAbsolutePath());
    }
}
