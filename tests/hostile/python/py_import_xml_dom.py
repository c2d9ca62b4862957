# Imports a module the warm interpreter has not loaded (reading library files
# is allowed): it must work.
import xml.dom.minidom


def strategy(df):
    doc = xml.dom.minidom.parseString("<a><b>1</b></a>")
    return [{"ticker": "SYN0001", "date": "2020-01-02", "x": doc.documentElement.firstChild.firstChild.data}]
