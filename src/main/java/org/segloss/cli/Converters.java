package org.segloss.cli;

import java.util.Locale;
import org.segloss.GdWeight;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.Mode;
import org.segloss.backend.Dispatcher;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters that reuse the API's parsers, so the command line accepts exactly what the API does. */
final class Converters {
    private Converters() {
    }

    static final class LossConverter implements ITypeConverter<Loss> {
        @Override
        public Loss convert(String value) {
            try {
                return Loss.parse(value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class GdWeightConverter implements ITypeConverter<GdWeight> {
        @Override
        public GdWeight convert(String value) {
            try {
                return GdWeight.parse(value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class ModeConverter implements ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            try {
                return Mode.parse(value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class LayoutConverter implements ITypeConverter<Layout> {
        @Override
        public Layout convert(String value) {
            try {
                return Layout.parse(value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** auto, cpu, opencl or cuda (lower-cased). */
    static final class BackendConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return Dispatcher.requested(value.isBlank() ? "?" : value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A backend name or {@code all}. */
    static final class BenchBackendConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            String key = value.trim().toLowerCase(Locale.ROOT);
            if (key.equals("all")) {
                return key;
            }
            try {
                return Dispatcher.requested(value.isBlank() ? "?" : value);
            } catch (InvalidInputException e) {
                throw new TypeConversionException("backend must be one of all, auto, cpu, opencl, cuda, was " + value);
            }
        }
    }

    /** A number, or {@code none} (null) for focal without class balancing. */
    static final class AlphaConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            if (value.trim().equalsIgnoreCase("none")) {
                return Double.NaN;
            }
            try {
                return Double.parseDouble(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("alpha must be a number in [0, 1] or none, was " + value);
            }
        }
    }

    /** The API's option names and the CLI flags that set them. */
    private static final String[][] FLAG_NAMES = {{"from_logits", "--from-logits"}, {"ignore_index", "--ignore-index"},
            {"class_weights", "--class-weights"}, {"smooth_nr", "--smooth-nr"}, {"smooth_dr", "--smooth-dr"},
            {"squared_pred", "--squared-pred"}, {"log_loss", "--log-loss"}, {"gd_weight", "--gd-weight"},
            {"lambda_pixel", "--lambda-pixel"}, {"lambda_region", "--lambda-region"},
            {"label_smoothing", "--label-smoothing"}, {"pos_weight", "--pos-weight"}};

    /** An API message with the option names the CLI user types: {@code from_logits} becomes {@code --from-logits}. */
    static String flagNames(String message) {
        String m = message.replaceFirst("^(smooth|alpha|beta|gamma) ", "--$1 ");
        for (String[] f : FLAG_NAMES) {
            m = m.replaceAll("(?<![-\\w])" + f[0] + "(?!\\w)", f[1]);
        }
        return m;
    }
}
