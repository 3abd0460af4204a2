package org.segloss.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header of a {@code .npy} file: a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Only the literals numpy writes
 * are accepted (strings, True/False, integers, tuples of integers); nothing is evaluated.
 */
final class NpyHeader {
    final String descr;
    final boolean fortranOrder;
    final long[] shape;

    private NpyHeader(String descr, boolean fortranOrder, long[] shape) {
        this.descr = descr;
        this.fortranOrder = fortranOrder;
        this.shape = shape;
    }

    /**
     * Parses {@code text}; problems are reported as {@code "<file>: <problem>"}, or just the problem
     * when {@code file} is null.
     */
    static NpyHeader parse(String file, String text, Npy.Accept accept) throws NpyFormatException {
        String where = Npy.where(file);
        Map<String, Object> dict = new Parser(where, text, accept).dict();
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new NpyFormatException(where + "unexpected key '" + key
                        + "' in the .npy header; allowed keys are descr, fortran_order, shape");
            }
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shape = dict.get("shape");
        if (descr == null || fortran == null || shape == null) {
            throw new NpyFormatException(where + "the .npy header must have descr, fortran_order and shape, was " + text.trim());
        }
        if (!(descr instanceof String)) {
            throw new NpyFormatException(where + "descr must be a type string such as '<f4', was " + describe(descr));
        }
        if (!(fortran instanceof Boolean)) {
            throw new NpyFormatException(where + "fortran_order must be True or False, was " + describe(fortran));
        }
        if (!(shape instanceof long[])) {
            throw new NpyFormatException(where + "shape must be a tuple of integers, was " + describe(shape));
        }
        return new NpyHeader((String) descr, (Boolean) fortran, (long[]) shape);
    }

    private static String describe(Object v) {
        return v instanceof long[] ? java.util.Arrays.toString((long[]) v) : String.valueOf(v);
    }

    /** Recursive-descent reader of the few Python literals a .npy header holds. */
    private static final class Parser {
        private final String where;
        private final String text;
        private final Npy.Accept accept;
        private int pos;

        Parser(String where, String text, Npy.Accept accept) {
            this.where = where;
            this.text = text;
            this.accept = accept;
        }

        Map<String, Object> dict() throws NpyFormatException {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                String key = string();
                expect(':');
                Object value = value(key);
                if (out.put(key, value) != null) {
                    throw fail("key '" + key + "' appears twice");
                }
                skipSpace();
                char ch = peek();
                if (ch == ',') {
                    pos++;
                } else if (ch != '}') {
                    throw fail("expected ',' or '}'");
                }
            }
            skipSpace();
            if (pos != text.length()) {
                throw fail("unexpected text after the header dict");
            }
            return out;
        }

        private Object value(String key) throws NpyFormatException {
            skipSpace();
            char ch = peek();
            if (ch == '\'' || ch == '"') {
                return string();
            } else if (ch == '(') {
                return tuple();
            } else if (ch == '[') {
                throw new NpyFormatException(where + "structured dtypes (a list in '" + key
                        + "') are not supported; allowed dtypes: " + NpyDtype.accepted(accept));
            } else if (text.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            } else if (text.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            } else if (Character.isDigit(ch) || ch == '-') {
                return integer();
            }
            throw fail("unsupported value for '" + key + "'");
        }

        private long[] tuple() throws NpyFormatException {
            expect('(');
            List<Long> dims = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == ')') {
                    pos++;
                    break;
                }
                dims.add(integer());
                skipSpace();
                char ch = peek();
                if (ch == ',') {
                    pos++;
                } else if (ch != ')') {
                    throw fail("expected ',' or ')' in the shape tuple");
                }
            }
            long[] out = new long[dims.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = dims.get(i);
            }
            return out;
        }

        private long integer() throws NpyFormatException {
            skipSpace();
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                pos++;
            }
            String digits = text.substring(start, pos);
            if (pos < text.length() && text.charAt(pos) == 'L') {
                pos++; // Python 2 long literal
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw fail("bad integer '" + digits + "'");
            }
        }

        private String string() throws NpyFormatException {
            skipSpace();
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw fail("expected a quoted string");
            }
            int end = text.indexOf(quote, pos + 1);
            if (end < 0) {
                throw fail("unterminated string");
            }
            String s = text.substring(pos + 1, end);
            if (s.indexOf('\\') >= 0) {
                throw fail("escapes in strings are not supported");
            }
            pos = end + 1;
            return s;
        }

        private void expect(char ch) throws NpyFormatException {
            skipSpace();
            if (peek() != ch) {
                throw fail("expected '" + ch + "'");
            }
            pos++;
        }

        private char peek() throws NpyFormatException {
            if (pos >= text.length()) {
                throw fail("the header ends early");
            }
            return text.charAt(pos);
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private NpyFormatException fail(String problem) {
            String shown = text.trim();
            if (shown.length() > 200) {
                shown = shown.substring(0, 200) + "...";
            }
            return new NpyFormatException(where + "malformed .npy header (" + problem + " at character " + pos
                    + "): " + shown);
        }
    }
}
