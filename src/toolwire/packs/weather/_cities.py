"""An offline table of major world cities: English and Chinese names, aliases, coordinates.

Resolving "北京" or "New York" needs no geocoding call; the weather tool only asks the
geocoding API for places this table does not know. :func:`find_city` also finds a city
mentioned inside a sentence ("北京今天气温如何?"), which the offline model uses.

Example::

    find_city("北京今天气温如何?")   # City(name='Beijing', name_zh='北京', ...)
    find_cities("北京、上海和广州")   # three cities, in the order they appear
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# code | English | 中文
_COUNTRY_TABLE = """
CN|China|中国
HK|Hong Kong|中国香港
MO|Macau|中国澳门
TW|Taiwan|中国台湾
JP|Japan|日本
KR|South Korea|韩国
KP|North Korea|朝鲜
MN|Mongolia|蒙古
IN|India|印度
PK|Pakistan|巴基斯坦
BD|Bangladesh|孟加拉国
ID|Indonesia|印度尼西亚
PH|Philippines|菲律宾
TH|Thailand|泰国
VN|Vietnam|越南
MY|Malaysia|马来西亚
SG|Singapore|新加坡
MM|Myanmar|缅甸
KH|Cambodia|柬埔寨
LA|Laos|老挝
NP|Nepal|尼泊尔
LK|Sri Lanka|斯里兰卡
AF|Afghanistan|阿富汗
IR|Iran|伊朗
IQ|Iraq|伊拉克
SA|Saudi Arabia|沙特阿拉伯
AE|United Arab Emirates|阿联酋
QA|Qatar|卡塔尔
KW|Kuwait|科威特
IL|Israel|以色列
TR|Turkey|土耳其
KZ|Kazakhstan|哈萨克斯坦
UZ|Uzbekistan|乌兹别克斯坦
RU|Russia|俄罗斯
UA|Ukraine|乌克兰
BY|Belarus|白俄罗斯
EG|Egypt|埃及
NG|Nigeria|尼日利亚
CD|DR Congo|刚果(金)
AO|Angola|安哥拉
KE|Kenya|肯尼亚
ET|Ethiopia|埃塞俄比亚
ZA|South Africa|南非
MA|Morocco|摩洛哥
GH|Ghana|加纳
TZ|Tanzania|坦桑尼亚
SD|Sudan|苏丹
DZ|Algeria|阿尔及利亚
CI|Côte d'Ivoire|科特迪瓦
SN|Senegal|塞内加尔
TN|Tunisia|突尼斯
US|United States|美国
CA|Canada|加拿大
MX|Mexico|墨西哥
CU|Cuba|古巴
BR|Brazil|巴西
AR|Argentina|阿根廷
CL|Chile|智利
PE|Peru|秘鲁
CO|Colombia|哥伦比亚
VE|Venezuela|委内瑞拉
EC|Ecuador|厄瓜多尔
UY|Uruguay|乌拉圭
GB|United Kingdom|英国
IE|Ireland|爱尔兰
FR|France|法国
DE|Germany|德国
IT|Italy|意大利
ES|Spain|西班牙
PT|Portugal|葡萄牙
NL|Netherlands|荷兰
BE|Belgium|比利时
CH|Switzerland|瑞士
AT|Austria|奥地利
SE|Sweden|瑞典
NO|Norway|挪威
DK|Denmark|丹麦
FI|Finland|芬兰
IS|Iceland|冰岛
GR|Greece|希腊
PL|Poland|波兰
CZ|Czechia|捷克
HU|Hungary|匈牙利
RO|Romania|罗马尼亚
RS|Serbia|塞尔维亚
AU|Australia|澳大利亚
NZ|New Zealand|新西兰
"""
COUNTRIES: dict[str, tuple[str, str]] = {
    code: (en, zh)
    for code, en, zh in (line.split("|") for line in _COUNTRY_TABLE.strip().splitlines())
}

# name | 中文名 | country | latitude | longitude | aliases (comma separated)
_TABLE = """
Beijing|北京|CN|39.90|116.41|Peking,北京市,京
Shanghai|上海|CN|31.23|121.47|上海市,沪
Tianjin|天津|CN|39.13|117.20|天津市,津
Chongqing|重庆|CN|29.56|106.55|重慶,Chungking
Harbin|哈尔滨|CN|45.80|126.53|哈爾濱
Changchun|长春|CN|43.82|125.32|長春
Shenyang|沈阳|CN|41.80|123.43|瀋陽,Mukden
Hohhot|呼和浩特|CN|40.84|111.75|Huhehaote
Shijiazhuang|石家庄|CN|38.04|114.51|石家莊
Taiyuan|太原|CN|37.87|112.55|
Jinan|济南|CN|36.65|117.12|濟南
Zhengzhou|郑州|CN|34.75|113.62|鄭州
Xi'an|西安|CN|34.34|108.94|Xian
Lanzhou|兰州|CN|36.06|103.83|蘭州
Yinchuan|银川|CN|38.49|106.23|銀川
Xining|西宁|CN|36.62|101.78|西寧
Urumqi|乌鲁木齐|CN|43.83|87.62|Ürümqi,烏魯木齊
Lhasa|拉萨|CN|29.65|91.12|拉薩
Chengdu|成都|CN|30.57|104.07|
Kunming|昆明|CN|25.04|102.71|
Guiyang|贵阳|CN|26.65|106.63|貴陽
Nanning|南宁|CN|22.82|108.37|南寧
Guangzhou|广州|CN|23.13|113.26|Canton,廣州,穗
Haikou|海口|CN|20.04|110.20|
Changsha|长沙|CN|28.23|112.94|長沙
Wuhan|武汉|CN|30.59|114.31|武漢
Nanchang|南昌|CN|28.68|115.86|
Hefei|合肥|CN|31.82|117.23|
Nanjing|南京|CN|32.06|118.80|Nanking
Hangzhou|杭州|CN|30.27|120.16|
Fuzhou|福州|CN|26.07|119.30|
Taipei|台北|TW|25.03|121.57|臺北,Taibei
Hong Kong|香港|HK|22.32|114.17|Hongkong,HK
Macau|澳门|MO|22.20|113.54|Macao,澳門
Shenzhen|深圳|CN|22.54|114.06|
Suzhou|苏州|CN|31.30|120.59|蘇州
Qingdao|青岛|CN|36.07|120.38|Tsingtao,青島
Dalian|大连|CN|38.91|121.61|大連
Xiamen|厦门|CN|24.48|118.09|Amoy,廈門
Ningbo|宁波|CN|29.87|121.54|寧波
Wuxi|无锡|CN|31.49|120.31|無錫
Dongguan|东莞|CN|23.02|113.75|東莞
Foshan|佛山|CN|23.02|113.12|
Tangshan|唐山|CN|39.63|118.18|
Yantai|烟台|CN|37.46|121.45|煙台
Zhuhai|珠海|CN|22.27|113.58|
Sanya|三亚|CN|18.25|109.51|三亞
Guilin|桂林|CN|25.27|110.29|
Luoyang|洛阳|CN|34.62|112.45|洛陽
Datong|大同|CN|40.08|113.30|
Baotou|包头|CN|40.66|109.84|包頭
Wenzhou|温州|CN|28.00|120.67|溫州
Shantou|汕头|CN|23.35|116.68|汕頭
Xuzhou|徐州|CN|34.26|117.18|
Changzhou|常州|CN|31.81|119.97|
Nantong|南通|CN|31.98|120.89|
Weifang|潍坊|CN|36.71|119.16|濰坊
Lijiang|丽江|CN|26.86|100.23|麗江
Kashgar|喀什|CN|39.47|75.99|Kashi
Yichang|宜昌|CN|30.69|111.29|
Shaoxing|绍兴|CN|30.00|120.58|紹興
Jilin City|吉林市|CN|43.84|126.55|
Mianyang|绵阳|CN|31.47|104.68|綿陽
Kaohsiung|高雄|TW|22.63|120.30|
Taichung|台中|TW|24.15|120.67|臺中
Tokyo|东京|JP|35.68|139.69|東京
Osaka|大阪|JP|34.69|135.50|
Kyoto|京都|JP|35.01|135.77|
Yokohama|横滨|JP|35.44|139.64|橫濱
Nagoya|名古屋|JP|35.18|136.91|
Sapporo|札幌|JP|43.06|141.35|
Fukuoka|福冈|JP|33.59|130.40|福岡
Seoul|首尔|KR|37.57|126.98|首爾,汉城,漢城
Busan|釜山|KR|35.18|129.08|Pusan
Pyongyang|平壤|KP|39.04|125.76|
Ulaanbaatar|乌兰巴托|MN|47.89|106.91|Ulan Bator
Delhi|德里|IN|28.61|77.21|New Delhi,新德里
Mumbai|孟买|IN|19.08|72.88|Bombay
Kolkata|加尔各答|IN|22.57|88.36|Calcutta
Bangalore|班加罗尔|IN|12.97|77.59|Bengaluru
Chennai|金奈|IN|13.08|80.27|Madras
Hyderabad|海得拉巴|IN|17.39|78.49|
Ahmedabad|艾哈迈达巴德|IN|23.02|72.57|
Pune|浦那|IN|18.52|73.86|
Surat|苏拉特|IN|21.17|72.83|
Karachi|卡拉奇|PK|24.86|67.01|
Lahore|拉合尔|PK|31.55|74.34|
Islamabad|伊斯兰堡|PK|33.68|73.05|
Dhaka|达卡|BD|23.81|90.41|Dacca
Chittagong|吉大港|BD|22.36|91.78|Chattogram
Jakarta|雅加达|ID|-6.21|106.85|
Surabaya|泗水|ID|-7.25|112.75|
Bandung|万隆|ID|-6.92|107.62|
Manila|马尼拉|PH|14.60|120.98|
Bangkok|曼谷|TH|13.76|100.50|
Ho Chi Minh City|胡志明市|VN|10.82|106.63|Saigon,西贡
Hanoi|河内|VN|21.03|105.85|
Kuala Lumpur|吉隆坡|MY|3.14|101.69|
Singapore|新加坡|SG|1.35|103.82|
Yangon|仰光|MM|16.84|96.17|Rangoon
Phnom Penh|金边|KH|11.56|104.93|
Vientiane|万象|LA|17.98|102.63|
Kathmandu|加德满都|NP|27.72|85.32|
Colombo|科伦坡|LK|6.93|79.86|
Kabul|喀布尔|AF|34.56|69.21|
Tehran|德黑兰|IR|35.69|51.39|
Baghdad|巴格达|IQ|33.31|44.36|
Riyadh|利雅得|SA|24.71|46.68|
Jeddah|吉达|SA|21.49|39.19|
Dubai|迪拜|AE|25.20|55.27|
Abu Dhabi|阿布扎比|AE|24.45|54.38|
Doha|多哈|QA|25.29|51.53|
Kuwait City|科威特城|KW|29.38|47.99|
Tel Aviv|特拉维夫|IL|32.09|34.78|
Jerusalem|耶路撒冷|IL|31.77|35.21|
Istanbul|伊斯坦布尔|TR|41.01|28.98|
Ankara|安卡拉|TR|39.93|32.86|
Almaty|阿拉木图|KZ|43.24|76.89|
Astana|阿斯塔纳|KZ|51.17|71.45|
Tashkent|塔什干|UZ|41.30|69.24|
Moscow|莫斯科|RU|55.76|37.62|
Saint Petersburg|圣彼得堡|RU|59.93|30.34|St Petersburg,St. Petersburg
Kyiv|基辅|UA|50.45|30.52|Kiev
Minsk|明斯克|BY|53.90|27.56|
Cairo|开罗|EG|30.04|31.24|
Lagos|拉各斯|NG|6.52|3.38|
Kinshasa|金沙萨|CD|-4.44|15.27|
Luanda|罗安达|AO|-8.84|13.23|
Nairobi|内罗毕|KE|-1.29|36.82|
Addis Ababa|亚的斯亚贝巴|ET|9.03|38.74|
Johannesburg|约翰内斯堡|ZA|-26.20|28.05|
Cape Town|开普敦|ZA|-33.92|18.42|
Casablanca|卡萨布兰卡|MA|33.57|-7.59|
Accra|阿克拉|GH|5.60|-0.19|
Dar es Salaam|达累斯萨拉姆|TZ|-6.79|39.21|
Khartoum|喀土穆|SD|15.50|32.56|
Algiers|阿尔及尔|DZ|36.75|3.06|
Abidjan|阿比让|CI|5.36|-4.01|
Dakar|达喀尔|SN|14.72|-17.47|
Tunis|突尼斯市|TN|36.81|10.18|
New York|纽约|US|40.71|-74.01|New York City,NYC,紐約
Los Angeles|洛杉矶|US|34.05|-118.24|LA,洛杉磯
Chicago|芝加哥|US|41.88|-87.63|
Houston|休斯敦|US|29.76|-95.37|
San Francisco|旧金山|US|37.77|-122.42|三藩市,SF
Washington|华盛顿|US|38.91|-77.04|Washington DC,Washington D.C.
Boston|波士顿|US|42.36|-71.06|
Seattle|西雅图|US|47.61|-122.33|
Miami|迈阿密|US|25.76|-80.19|
Philadelphia|费城|US|39.95|-75.17|
Atlanta|亚特兰大|US|33.75|-84.39|
Dallas|达拉斯|US|32.78|-96.80|
Phoenix|菲尼克斯|US|33.45|-112.07|
Las Vegas|拉斯维加斯|US|36.17|-115.14|
Denver|丹佛|US|39.74|-104.99|
Detroit|底特律|US|42.33|-83.05|
San Diego|圣迭戈|US|32.72|-117.16|圣地亚哥(美国)
Honolulu|檀香山|US|21.31|-157.86|火奴鲁鲁
Toronto|多伦多|CA|43.65|-79.38|
Vancouver|温哥华|CA|49.28|-123.12|
Montreal|蒙特利尔|CA|45.50|-73.57|Montréal
Ottawa|渥太华|CA|45.42|-75.70|
Mexico City|墨西哥城|MX|19.43|-99.13|CDMX,Ciudad de México
Guadalajara|瓜达拉哈拉|MX|20.66|-103.35|
Monterrey|蒙特雷|MX|25.69|-100.32|
Havana|哈瓦那|CU|23.11|-82.37|
São Paulo|圣保罗|BR|-23.55|-46.63|Sao Paulo
Rio de Janeiro|里约热内卢|BR|-22.91|-43.17|Rio
Brasília|巴西利亚|BR|-15.79|-47.88|Brasilia
Buenos Aires|布宜诺斯艾利斯|AR|-34.60|-58.38|
Santiago|圣地亚哥|CL|-33.45|-70.67|Santiago de Chile
Lima|利马|PE|-12.05|-77.04|
Bogotá|波哥大|CO|4.71|-74.07|Bogota
Caracas|加拉加斯|VE|10.48|-66.90|
Quito|基多|EC|-0.18|-78.47|
Montevideo|蒙得维的亚|UY|-34.90|-56.16|
London|伦敦|GB|51.51|-0.13|倫敦
Manchester|曼彻斯特|GB|53.48|-2.24|
Edinburgh|爱丁堡|GB|55.95|-3.19|
Dublin|都柏林|IE|53.35|-6.26|
Paris|巴黎|FR|48.86|2.35|
Marseille|马赛|FR|43.30|5.37|
Lyon|里昂|FR|45.76|4.84|
Berlin|柏林|DE|52.52|13.40|
Munich|慕尼黑|DE|48.14|11.58|München
Frankfurt|法兰克福|DE|50.11|8.68|
Hamburg|汉堡|DE|53.55|9.99|
Rome|罗马|IT|41.90|12.50|Roma
Milan|米兰|IT|45.46|9.19|Milano
Madrid|马德里|ES|40.42|-3.70|
Barcelona|巴塞罗那|ES|41.39|2.17|
Lisbon|里斯本|PT|38.72|-9.14|Lisboa
Amsterdam|阿姆斯特丹|NL|52.37|4.90|
Brussels|布鲁塞尔|BE|50.85|4.35|Bruxelles
Zurich|苏黎世|CH|47.38|8.54|Zürich
Geneva|日内瓦|CH|46.20|6.14|Genève
Vienna|维也纳|AT|48.21|16.37|Wien
Stockholm|斯德哥尔摩|SE|59.33|18.07|
Oslo|奥斯陆|NO|59.91|10.75|
Copenhagen|哥本哈根|DK|55.68|12.57|København
Helsinki|赫尔辛基|FI|60.17|24.94|
Reykjavik|雷克雅未克|IS|64.15|-21.94|Reykjavík
Athens|雅典|GR|37.98|23.73|
Warsaw|华沙|PL|52.23|21.01|Warszawa
Prague|布拉格|CZ|50.08|14.44|Praha
Budapest|布达佩斯|HU|47.50|19.04|
Bucharest|布加勒斯特|RO|44.43|26.10|
Belgrade|贝尔格莱德|RS|44.79|20.45|
Sydney|悉尼|AU|-33.87|151.21|雪梨
Melbourne|墨尔本|AU|-37.81|144.96|
Brisbane|布里斯班|AU|-27.47|153.03|
Perth|珀斯|AU|-31.95|115.86|
Canberra|堪培拉|AU|-35.28|149.13|
Auckland|奥克兰|NZ|-36.85|174.76|
Wellington|惠灵顿|NZ|-41.29|174.78|
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class City:
    """One place of the offline table."""

    name: str
    name_zh: str
    country_code: str
    latitude: float
    longitude: float
    aliases: tuple[str, ...] = field(default=())

    @property
    def country(self) -> str:
        return COUNTRIES.get(self.country_code, (self.country_code, ""))[0]

    @property
    def country_zh(self) -> str:
        return COUNTRIES.get(self.country_code, ("", self.country_code))[1]

    def names(self) -> tuple[str, ...]:
        return (self.name, self.name_zh, *self.aliases)


def _parse(table: str) -> tuple[City, ...]:
    cities = []
    for line in table.strip().splitlines():
        name, zh, cc, lat, lon, aliases = line.split("|")
        cities.append(
            City(
                name=name,
                name_zh=zh,
                country_code=cc,
                latitude=float(lat),
                longitude=float(lon),
                aliases=tuple(a for a in aliases.split(",") if a),
            )
        )
    return tuple(cities)


CITIES: tuple[City, ...] = _parse(_TABLE)

_SUFFIXES = ("市", " city", "特别行政区", "特別行政區")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[\s.\-'’_]+", " ", text).strip(" ,，。!?！？")
    return text


def _index() -> dict[str, City]:
    index: dict[str, City] = {}
    for city in CITIES:
        for name in city.names():
            key = _norm(name)
            index.setdefault(key, city)
            for suffix in _SUFFIXES:
                if key.endswith(suffix.strip()) and len(key) > len(suffix.strip()) + 1:
                    index.setdefault(key[: -len(suffix.strip())].strip(), city)
    return index


_INDEX = _index()
# longest names first so "New York City" wins over "York" and "吉林市" over "吉林"
_BY_LENGTH = sorted(_INDEX, key=len, reverse=True)
_ASCII = re.compile(r"^[a-z0-9 ]+$")


def find_city(text: str) -> City | None:
    """The city named by ``text``, or mentioned in it; None when the table has none.

    Matches names in English or Chinese, aliases and accents-insensitively; a whole-text match
    wins, otherwise the earliest (then longest) name found inside the text.
    """
    found = find_cities(text)
    return found[0] if found else None


def find_cities(text: str) -> list[City]:
    """Every distinct city mentioned in ``text``, in the order they appear."""
    key = _norm(text)
    if not key:
        return []
    for suffix in _SUFFIXES:
        stripped = key.removesuffix(suffix.strip()).strip()
        if stripped in _INDEX:
            return [_INDEX[stripped]]
    hits: list[tuple[int, int, City]] = []
    taken: list[tuple[int, int]] = []
    for name in _BY_LENGTH:
        if len(name) < 2 or (len(name) <= 3 and _ASCII.match(name)):
            continue  # "LA", "Rio", "京": only as the whole text, never inside a sentence
        pattern = rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])" if _ASCII.match(name) else None
        spans = (
            [m.span() for m in re.finditer(pattern, key)]
            if pattern
            else [(m.start(), m.start() + len(name)) for m in re.finditer(re.escape(name), key)]
        )
        for start, end in spans:
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            hits.append((start, -len(name), _INDEX[name]))
    out: list[City] = []
    for _, _, city in sorted(hits, key=lambda h: (h[0], h[1])):
        if city not in out:
            out.append(city)
    return out
